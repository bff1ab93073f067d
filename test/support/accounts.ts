import { createAccount, type Account, type AccountInput } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import type { Db } from '../../lib/db/connection'
import { addSender, type Sender } from '../../lib/db/senders'
import type { PlannedRecipient } from '../../lib/mx/recipient-policy'

/** An account as the directory holds it, for tests that need one without a database. */
export function testAccount(overrides: Partial<Account> = {}): Account {
  return {
    id: 1,
    ref: 'acme',
    name: 'Acme',
    defaultCountry: 'FR',
    senderName: null,
    signatureMarker: null,
    segmentCap: 4,
    virtualNumber: null,
    gsmOnly: false,
    timeZone: 'UTC',
    isActive: true,
    limits: {
      smsPerMinute: null,
      senderSmsPerMinute: null,
      segmentsPerDay: null,
      segmentsPerMonth: null,
      allowedDestinations: null,
    },
    ...overrides,
  }
}

/** A recipient accepted at RCPT TO for `account`: +33612345678, sent by alice@example.com. */
export function testRecipient(account: Account = testAccount()): PlannedRecipient {
  return {
    address: '+33612345678@sms.example.com',
    e164: '+33612345678',
    membership: {
      senderId: 1,
      email: 'alice@example.com',
      status: 'accepted',
      isDefault: true,
      account,
    },
  }
}

export interface SendingAccount {
  account: Account
  senders: Sender[]
}

/**
 * An account the MX accepts mail for from loopback: created with `input` (country FR and a cap
 * of 4 unless given), each address in `senders` accepted (the first is its default account
 * unless `isDefault` says otherwise), and 127.0.0.1 on its IP list.
 */
export async function seedSendingAccount(
  db: Db,
  input: Partial<AccountInput> & Pick<AccountInput, 'ref'>,
  senders: string[],
  options: { isDefault?: boolean } = {},
): Promise<SendingAccount> {
  const account = await createAccount(db, {
    name: input.ref,
    defaultCountry: 'FR',
    segmentCap: 4,
    ...input,
  })
  const added: Sender[] = []
  for (const email of senders) {
    added.push(
      await addSender(db, account.id, email, {
        status: 'accepted',
        isDefault: options.isDefault ?? true,
      }),
    )
  }
  await addAllowedIp(db, account.id, '127.0.0.1')
  return { account, senders: added }
}
