import assert from 'node:assert/strict'
import {
  parseInboundCallback,
  parseStatusCallback,
  presentedSecret,
  WebhookInputError,
  type WebhookAccount,
} from '../../../lib/inbound/webhook'

const account: WebhookAccount = {
  id: 1,
  ref: 'acme',
  defaultCountry: 'FR',
  virtualNumber: '+33700000001',
}
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0)

function refusedField(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof WebhookInputError) return err.field
    throw err
  }
  assert.fail('expected a WebhookInputError')
}

describe('lib/inbound webhook callbacks', () => {
  describe('presentedSecret', () => {
    it('reads a bearer token, else the X-Webhook-Secret header', () => {
      assert.equal(presentedSecret('Bearer abc.DEF-123', undefined), 'abc.DEF-123')
      assert.equal(presentedSecret('bearer  abc ', 'other'), 'abc')
      assert.equal(presentedSecret(undefined, ' s3cret '), 's3cret')
      assert.equal(presentedSecret('Basic dXNlcjpwYXNz', undefined), null)
      assert.equal(presentedSecret(undefined, ''), null)
      assert.equal(presentedSecret(undefined, undefined), null)
    })
  })

  describe('parseInboundCallback', () => {
    it('reads the usual fields, numbers as E.164, and counts the parts', () => {
      const sms = parseInboundCallback(
        { from: '33612345678', to: '+33700000001', text: 'Oui, à demain', id: 'abc-1' },
        account,
        NOW,
      )
      assert.deepEqual(sms, {
        accountId: 1,
        from: '33612345678',
        to: '+33700000001',
        text: 'Oui, à demain',
        carrierId: 'abc-1',
        receivedAt: NOW,
        parts: 1,
        encoding: 'gsm7',
      })
    })

    it('accepts the common aliases and numeric fields', () => {
      const sms = parseInboundCallback(
        {
          msisdn: 33612345678,
          destination: '0700000001',
          message: 'Ça va ? 😀',
          message_id: 42,
          timestamp: 1795780800,
        },
        account,
        NOW,
      )
      assert.equal(sms.from, '33612345678')
      assert.equal(sms.to, '+33700000001', 'a national number read in the account country')
      assert.equal(sms.carrierId, '42')
      assert.equal(sms.receivedAt, 1795780800_000)
      assert.equal(sms.encoding, 'ucs2')
      const other = parseInboundCallback(
        {
          sender: '+33612345678',
          recipient: '33700000001',
          body: 'x',
          received_at: '2026-11-27T11:59:00Z',
        },
        account,
        NOW,
      )
      assert.equal(other.receivedAt, Date.UTC(2026, 10, 27, 11, 59))
      assert.equal(other.carrierId, null)
    })

    it('names the missing or wrong field', () => {
      const good = { from: '33612345678', to: '33700000001', text: 'hi' }
      assert.equal(
        refusedField(() =>
          parseInboundCallback({ ...good, id: 'abc\nsms id=forged' }, account, NOW),
        ),
        'id',
      )
      assert.equal(
        refusedField(() => parseInboundCallback({ ...good, from: '' }, account, NOW)),
        'from',
      )
      assert.equal(
        refusedField(() => parseInboundCallback({ to: good.to, text: 'x' }, account, NOW)),
        'from',
      )
      assert.equal(
        refusedField(() => parseInboundCallback({ ...good, text: undefined }, account, NOW)),
        'text',
      )
      assert.equal(
        refusedField(() => parseInboundCallback({ ...good, text: { a: 1 } }, account, NOW)),
        'text',
      )
      assert.equal(
        refusedField(() => parseInboundCallback({ ...good, timestamp: 'yesterday' }, account, NOW)),
        'timestamp',
      )
      assert.equal(
        refusedField(() =>
          parseInboundCallback({ ...good, timestamp: NOW + 3 * 86_400_000 }, account, NOW),
        ),
        'timestamp',
      )
      assert.equal(
        refusedField(() => parseInboundCallback({ ...good, id: 'x'.repeat(101) }, account, NOW)),
        'id',
      )
      assert.equal(
        refusedField(() => parseInboundCallback({ ...good, parts: 0 }, account, NOW)),
        'parts',
      )
      assert.equal(
        refusedField(() =>
          parseInboundCallback({ ...good, text: 'x'.repeat(40_000) }, account, NOW),
        ),
        'text',
      )
    })

    it("refuses a `to` that is not the account's virtual number", () => {
      const sms = { from: '33612345678', to: '33700000002', text: 'hi' }
      assert.throws(
        () => parseInboundCallback(sms, account, NOW),
        /to must be this account's virtual number \+33700000001/,
      )
      assert.throws(
        () =>
          parseInboundCallback(
            { ...sms, to: '33700000001' },
            { ...account, virtualNumber: null },
            NOW,
          ),
        /no virtual number/,
      )
    })
  })

  describe('parseStatusCallback', () => {
    it('maps carrier words to receipt states and keeps the id canonical', () => {
      const cases: Array<[string, string]> = [
        ['delivered', 'delivered'],
        ['DELIVRD', 'delivered'],
        ['undeliverable', 'undeliverable'],
        ['failed', 'undeliverable'],
        ['rejected', 'rejected'],
        ['expired', 'expired'],
        ['accepted', 'accepted'],
        ['sent', 'enroute'],
      ]
      for (const [word, state] of cases) {
        assert.equal(parseStatusCallback({ message_id: 'x', status: word }).state, state, word)
      }
      const s = parseStatusCallback({ id: ' 00A1B2 ', state: 'failed', error: 'absent subscriber' })
      assert.equal(s.messageId, 'a1b2')
      assert.equal(s.error, 'absent subscriber')
    })

    it('names the missing or unknown field', () => {
      assert.equal(
        refusedField(() => parseStatusCallback({ status: 'delivered' })),
        'message_id',
      )
      assert.equal(
        refusedField(() => parseStatusCallback({ message_id: 'a' })),
        'status',
      )
      assert.equal(
        refusedField(() => parseStatusCallback({ message_id: 'a', status: 'great' })),
        'status',
      )
    })
  })
})
