import assert from 'node:assert/strict'
import type { Db } from '../../../lib/db/connection'
import type { LimitsConfig } from '../../../lib/config'
import type { NewSms } from '../../../lib/db/outbound'
import type { SmsDraft } from '../../../lib/mx/message'
import { SpendGuard } from '../../../lib/mx/spend-guard'

const OFF: LimitsConfig = {
  accountSmsPerMinute: 0,
  senderSmsPerMinute: 0,
  segmentsPerDay: 0,
  segmentsPerMonth: 0,
  allowedDestinations: [],
  loopMaxRepeats: 0,
  loopWindowMinutes: 10,
}

const account = {
  id: 1,
  ref: 'acme',
  name: 'Acme',
  defaultCountry: 'FR',
  senderName: null,
  signatureMarker: null,
  segmentCap: 4,
  virtualNumber: null,
  isActive: true,
  limits: {
    smsPerMinute: null,
    senderSmsPerMinute: null,
    segmentsPerDay: null,
    segmentsPerMonth: null,
    allowedDestinations: null,
  },
}

const draft = {
  recipient: {
    address: '0612345678@sms.test',
    e164: '+33612345678',
    membership: { senderId: 1, email: 'a@b.test', status: 'accepted', isDefault: true, account },
  },
  text: 'hi',
  analysis: { segments: 1 },
} as unknown as SmsDraft
const row = { senderEmail: 'a@b.test', dedupeKey: 'k' } as NewSms

describe('SpendGuard', () => {
  it('reads nothing when no limit applies at all', async () => {
    // Any query on this "database" throws: the check must not make one.
    const db = Object.assign(
      () => {
        throw new Error('queried')
      },
      {
        raw: () => Promise.reject(new Error('queried')),
        client: { config: { client: 'mysql2' } },
      },
    ) as unknown as Db
    const plan = await new SpendGuard(db, OFF).check([draft], [row])
    assert.deepEqual(plan, {
      decision: { action: 'accept', message: undefined },
      deltas: [],
      alerts: [],
    })
  })

  it('reads the counters as soon as one limit applies', async () => {
    const db = Object.assign(
      () => {
        throw new Error('queried')
      },
      {
        raw: () => Promise.reject(new Error('queried')),
        client: { config: { client: 'mysql2' } },
      },
    ) as unknown as Db
    await assert.rejects(
      new SpendGuard(db, { ...OFF, loopMaxRepeats: 5 }).check([draft], [row]),
      /queried/,
    )
  })
})
