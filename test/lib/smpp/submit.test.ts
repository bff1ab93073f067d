import assert from 'node:assert/strict'
import { SmppSubmitError } from '../../../lib/smpp/errors'
import { planSubmit, type SubmitMessage } from '../../../lib/smpp/submit'

const message = (overrides: Partial<SubmitMessage>): SubmitMessage => ({
  from: { type: 'alphanumeric', name: 'Mail2SMS' },
  to: '+33612345678',
  text: 'Hello',
  requestReceipt: true,
  ...overrides,
})

function permanent(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof SmppSubmitError && err.kind === 'permanent')
}

describe('lib/smpp/submit', () => {
  it('takes a reference number only for a message of several segments', () => {
    let calls = 0
    const next = () => ++calls
    planSubmit(message({ text: 'short' }), 'udh', next)
    assert.equal(calls, 0)
    planSubmit(message({ text: 'x'.repeat(161) }), 'sar', next)
    planSubmit(message({ text: 'x'.repeat(161) }), 'payload', next)
    assert.equal(calls, 1)
  })

  it('sends the empty text as one empty part', () => {
    const plan = planSubmit(message({ text: '' }), 'udh', () => 1)
    assert.equal(plan.pdus.length, 1)
    assert.deepEqual(plan.pdus[0].short_message, Buffer.alloc(0))
    assert.equal(plan.pdus[0].data_coding, 0)
  })

  it('sets registered_delivery only when a receipt is wanted', () => {
    assert.equal(planSubmit(message({}), 'udh', () => 1).pdus[0].registered_delivery, 1)
    const quiet = planSubmit(message({ requestReceipt: false }), 'udh', () => 1)
    assert.equal(quiet.pdus[0].registered_delivery, 0)
  })

  it('refuses what no SMSC would take', () => {
    permanent(() => planSubmit(message({ to: '0612345678' }), 'udh', () => 1))
    permanent(() => planSubmit(message({ to: '+336123456789012345' }), 'udh', () => 1))
    permanent(() =>
      planSubmit(message({ from: { type: 'number', number: 'abc' } }), 'udh', () => 1),
    )
    permanent(() =>
      planSubmit(message({ from: { type: 'alphanumeric', name: 'TwelveLetter' } }), 'udh', () => 1),
    )
    permanent(() =>
      planSubmit(message({ from: { type: 'alphanumeric', name: 'Café' } }), 'udh', () => 1),
    )
    permanent(() =>
      planSubmit(message({ from: { type: 'alphanumeric', name: '  ' } }), 'udh', () => 1),
    )
    permanent(() => planSubmit(message({ text: 'x'.repeat(153 * 256) }), 'udh', () => 1))
  })
})
