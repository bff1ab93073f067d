import assert from 'node:assert/strict'
import { TimeZoneError, ZonedClock } from '../../../lib/export/time-zone'

const HOUR = 3_600_000

describe('lib/export/time-zone', () => {
  it('formats instants as ISO 8601 local times with the offset of that instant', () => {
    const paris = new ZonedClock('Europe/Paris')
    assert.equal(paris.format(Date.UTC(2026, 0, 15, 12, 0, 0)), '2026-01-15T13:00:00+01:00')
    assert.equal(paris.format(Date.UTC(2026, 6, 15, 12, 0, 0)), '2026-07-15T14:00:00+02:00')
    // The hour Paris lives twice on 25 October: both readings are told apart by the offset.
    assert.equal(paris.format(Date.UTC(2026, 9, 25, 0, 30)), '2026-10-25T02:30:00+02:00')
    assert.equal(paris.format(Date.UTC(2026, 9, 25, 1, 30)), '2026-10-25T02:30:00+01:00')
    assert.equal(
      new ZonedClock('UTC').format(Date.UTC(2026, 0, 1, 23, 59, 59, 999)),
      '2026-01-01T23:59:59Z',
    )
    assert.equal(
      new ZonedClock('Asia/Kolkata').format(Date.UTC(2026, 0, 1)),
      '2026-01-01T05:30:00+05:30',
    )
    assert.equal(
      new ZonedClock('America/St_Johns').format(Date.UTC(2026, 0, 1)),
      '2025-12-31T20:30:00-03:30',
    )
  })

  it('finds the first instant of a local day, also on days of 23 and 25 hours', () => {
    const paris = new ZonedClock('Europe/Paris')
    assert.equal(paris.startOfDay('2026-03-29'), Date.UTC(2026, 2, 28, 23))
    assert.equal(paris.startOfNextDay('2026-03-29') - paris.startOfDay('2026-03-29'), 23 * HOUR)
    assert.equal(paris.startOfNextDay('2026-10-25') - paris.startOfDay('2026-10-25'), 25 * HOUR)
    assert.equal(new ZonedClock('UTC').startOfDay('2026-02-28'), Date.UTC(2026, 1, 28))
    assert.equal(
      new ZonedClock('Pacific/Kiritimati').startOfDay('2026-01-01'),
      Date.UTC(2025, 11, 31, 10),
    )
  })

  it('starts a day at 01:00 where the clocks skip midnight (Chile in September)', () => {
    const santiago = new ZonedClock('America/Santiago')
    const start = santiago.startOfDay('2026-09-06')
    assert.equal(santiago.format(start), '2026-09-06T01:00:00-03:00')
    assert.equal(santiago.format(start - 1), '2026-09-05T23:59:59-04:00')
  })

  it('refuses unknown zones and dates that do not exist', () => {
    assert.throws(() => new ZonedClock('Mars/Olympus'), TimeZoneError)
    const utc = new ZonedClock('UTC')
    assert.throws(() => utc.startOfDay('2026-02-30'), RangeError)
    assert.throws(() => utc.startOfDay('30/01/2026'), RangeError)
  })
})
