import assert from 'node:assert/strict'
import { isErrorCode, readLastError } from '../../../lib/worker/last-error'
import { describeStatus, statusName } from '../../../lib/smpp/status'

// What the worker writes, in the forms its writers build them (see lib/worker/last-error.ts).
const refusal = (status: number, part = 'part 1/1', answer = 'refused') =>
  `${statusName(status)}: ${part} ${answer}: ${describeStatus(status)}`

describe('lib/worker/last-error', () => {
  it('reads receipts, with or without the carrier’s error, parts or not', () => {
    assert.deepEqual(readLastError('receipt: undeliverable'), {
      kind: 'receipt',
      carrierError: null,
    })
    assert.deepEqual(readLastError('receipt: expired (error 012)'), {
      kind: 'receipt',
      carrierError: '012',
    })
    assert.deepEqual(readLastError('receipt: partial (delivered parts 1, 3 of 3) (error GSM:1)'), {
      kind: 'receipt',
      carrierError: 'GSM:1',
    })
    // A webhook's error is the carrier's free text, parentheses and all.
    assert.deepEqual(readLastError('receipt: undeliverable (error Handset busy (try later))'), {
      kind: 'receipt',
      carrierError: 'Handset busy (try later)',
    })
  })

  it('reads expiries: never taken, some parts never taken, given up after tries', () => {
    assert.deepEqual(readLastError('expired before the carrier accepted it'), {
      kind: 'not_taken_in_time',
    })
    assert.deepEqual(readLastError('part 2, 3 of 3 expired before the carrier accepted it'), {
      kind: 'parts_not_taken_in_time',
      parts: [2, 3],
      of: 3,
    })
    assert.deepEqual(readLastError('expired: part 1/2: submit_sm got no response in 5000 ms'), {
      kind: 'gave_up',
      last: { kind: 'no_answer' },
    })
    assert.deepEqual(readLastError(`expired: ${refusal(0x58)}`), {
      kind: 'gave_up',
      last: { kind: 'carrier_status', status: 'ESME_RTHROTTLED' },
    })
  })

  it('reads the carrier’s SMPP answers by status name or code', () => {
    assert.deepEqual(readLastError(refusal(0x0b)), {
      kind: 'carrier_status',
      status: 'ESME_RINVDSTADR',
    })
    assert.deepEqual(readLastError(refusal(0x0400, 'part 2/3', 'generic_nack')), {
      kind: 'carrier_status',
      status: '0x00000400',
    })
    // Several parts refused: the first one's.
    assert.deepEqual(readLastError(`${refusal(0x0b)}; ${refusal(0x45, 'part 2/2')}`), {
      kind: 'carrier_status',
      status: 'ESME_RINVDSTADR',
    })
  })

  it('reads the session’s and the client’s own failures', () => {
    const cases: Array<[string, string]> = [
      ['SMPP client is connecting, not bound', 'not_bound'],
      ['SMPP client is closed, not bound', 'not_bound'],
      ['part 1/1: submit_sm: not connected', 'connection_lost'],
      ['part 1/1: submit_sm: connection not writable', 'connection_lost'],
      ['part 2/2 not sent: connection closed', 'connection_lost'],
      ['part 2/2 not sent: an earlier part was not taken', 'earlier_part_failed'],
      ['part 1/1: deliver_sm_resp', 'unexpected_answer'],
      ['part 1/1 not encodable: value out of range', 'not_encodable'],
      ['destination +3361234 is not an E.164 number', 'bad_number'],
      ['source 12ab is not an E.164 number', 'bad_sender'],
      ['sender name "Très long nom" must be 1 to 11 printable ASCII characters', 'bad_sender'],
      ['no final receipt in 172800000 ms', 'no_final_receipt'],
    ]
    for (const [text, kind] of cases) assert.equal(readLastError(text).kind, kind, text)
    assert.deepEqual(readLastError('text needs 300 segments (max 255)'), {
      kind: 'too_long',
      segments: 300,
    })
  })

  it('keeps any other text as it is, trimmed', () => {
    assert.deepEqual(readLastError(' connect ECONNREFUSED 127.0.0.1:2775 '), {
      kind: 'other',
      text: 'connect ECONNREFUSED 127.0.0.1:2775',
    })
    assert.deepEqual(readLastError('receipt: undeliverable (error x'), {
      kind: 'other',
      text: 'receipt: undeliverable (error x',
    })
  })

  it('tells an error code from the carrier’s words', () => {
    for (const code of ['012', 'GSM:1', 'ERR-34', 'type9:7']) assert.ok(isErrorCode(code), code)
    for (const words of ['Handset busy', 'Absent', 'rejected by operator 5']) {
      assert.ok(!isErrorCode(words), words)
    }
  })
})
