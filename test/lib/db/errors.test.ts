import assert from 'node:assert/strict'
import { isDatabaseUnreachable, isDeadlock } from '../../../lib/db/errors'

const driverError = (code: string, errno: number) =>
  Object.assign(new Error(code), { code, errno, sqlState: '08S01' })

describe('lib/db/errors', () => {
  it('counts a Galera node that is not ready (1047) as out of reach, to be tried again', () => {
    assert.equal(isDatabaseUnreachable(driverError('ER_UNKNOWN_COM_ERROR', 1047)), true)
    assert.equal(isDatabaseUnreachable(driverError('ECONNREFUSED', 0)), true)
  })

  it('does not count a statement the server refused as out of reach', () => {
    assert.equal(isDatabaseUnreachable(driverError('ER_DUP_ENTRY', 1062)), false)
    assert.equal(isDatabaseUnreachable(null), false)
  })

  // Galera reports a write set that lost certification at COMMIT as a deadlock.
  it('tells a deadlock, certification failures included', () => {
    assert.equal(isDeadlock(driverError('ER_LOCK_DEADLOCK', 1213)), true)
    assert.equal(isDeadlock(driverError('ER_LOCK_WAIT_TIMEOUT', 1205)), false)
  })
})
