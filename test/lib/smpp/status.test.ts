import assert from 'node:assert/strict'
import { errors } from 'smpp'
import { classifySubmitStatus, describeStatus, statusName } from '../../../lib/smpp/status'

describe('lib/smpp/status', () => {
  it('classifies the two throttling statuses as throttled', () => {
    assert.equal(classifySubmitStatus(0x58), 'throttled')
    assert.equal(classifySubmitStatus(0x14), 'throttled')
  })

  it('classifies faults of the message itself as permanent', () => {
    // invalid message length, source and destination address, esm_class, data_coding,
    // destination TON, barred
    for (const status of [0x01, 0x0a, 0x0b, 0x43, 0x104, 0x50, 0x101]) {
      assert.equal(classifySubmitStatus(status), 'permanent', statusName(status))
    }
  })

  it('retries system errors, bind-level codes and unknown codes rather than losing the SMS', () => {
    // system error, submit failed, temporary application error, bind-level password and
    // system id errors, a vendor-specific code, a code nobody defined
    for (const status of [0x08, 0x45, 0x64, 0x0e, 0x0f, 0x400, 0x7fff]) {
      assert.equal(classifySubmitStatus(status), 'temporary', statusName(status))
    }
  })

  it('says ok only for ESME_ROK', () => {
    assert.equal(classifySubmitStatus(0), 'ok')
  })

  it('names every status the smpp package knows exactly as the package does', () => {
    for (const [name, code] of Object.entries(errors)) {
      assert.equal(statusName(code), name)
    }
  })

  it('writes codes without a name in hex, and both forms for log lines', () => {
    assert.equal(statusName(0x401), '0x00000401')
    assert.equal(describeStatus(0x58), 'ESME_RTHROTTLED (0x00000058)')
    assert.equal(describeStatus(0x401), '0x00000401')
  })
})
