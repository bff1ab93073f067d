import type { Account } from '../../lib/db/accounts'
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
