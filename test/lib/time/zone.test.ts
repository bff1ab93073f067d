import assert from 'node:assert/strict'
import {
  TimeZone,
  TimeZoneError,
  canonicalTimeZone,
  formatDateTime,
  timeZone,
  timeZoneNames,
  timeZoneOrUtc,
} from '../../../lib/time/zone'

const HOUR = 3_600_000

describe('lib/time/zone', () => {
  it('formats instants as ISO 8601 local times with the offset of that instant', () => {
    const paris = timeZone('Europe/Paris')
    assert.equal(paris.format(Date.UTC(2026, 0, 15, 12, 0, 0)), '2026-01-15T13:00:00+01:00')
    assert.equal(paris.format(Date.UTC(2026, 6, 15, 12, 0, 0)), '2026-07-15T14:00:00+02:00')
    // The hour Paris lives twice on 25 October: both readings are told apart by the offset.
    assert.equal(paris.format(Date.UTC(2026, 9, 25, 0, 30)), '2026-10-25T02:30:00+02:00')
    assert.equal(paris.format(Date.UTC(2026, 9, 25, 1, 30)), '2026-10-25T02:30:00+01:00')
    assert.equal(
      timeZone('UTC').format(Date.UTC(2026, 0, 1, 23, 59, 59, 999)),
      '2026-01-01T23:59:59Z',
    )
    assert.equal(timeZone('Asia/Kolkata').format(Date.UTC(2026, 0, 1)), '2026-01-01T05:30:00+05:30')
    assert.equal(
      timeZone('America/St_Johns').format(Date.UTC(2026, 0, 1)),
      '2025-12-31T20:30:00-03:30',
    )
  })

  it('finds the first instant of a local day, also on days of 23 and 25 hours', () => {
    const paris = timeZone('Europe/Paris')
    assert.equal(paris.startOfDate('2026-03-29'), Date.UTC(2026, 2, 28, 23))
    assert.equal(paris.startOfNextDate('2026-03-29') - paris.startOfDate('2026-03-29'), 23 * HOUR)
    assert.equal(paris.startOfNextDate('2026-10-25') - paris.startOfDate('2026-10-25'), 25 * HOUR)
    assert.equal(timeZone('UTC').startOfDate('2026-02-28'), Date.UTC(2026, 1, 28))
    assert.equal(
      timeZone('Pacific/Kiritimati').startOfDate('2026-01-01'),
      Date.UTC(2025, 11, 31, 10),
    )
  })

  it('starts a day at 01:00 where the clocks skip midnight (Chile in September)', () => {
    const santiago = timeZone('America/Santiago')
    const start = santiago.startOfDate('2026-09-06')
    assert.equal(santiago.format(start), '2026-09-06T01:00:00-03:00')
    assert.equal(santiago.format(start - 1), '2026-09-05T23:59:59-04:00')
  })

  it('refuses unknown zones and dates that do not exist', () => {
    assert.throws(() => timeZone('Mars/Olympus'), TimeZoneError)
    assert.throws(() => new TimeZone('Mars/Olympus'), TimeZoneError)
    const utc = timeZone('UTC')
    assert.throws(() => utc.startOfDate('2026-02-30'), RangeError)
    assert.throws(() => utc.startOfDate('30/01/2026'), RangeError)
  })
})

describe('lib/time/zone: local days', () => {
  const day = (date: string) =>
    Date.UTC(+date.slice(0, 4), +date.slice(5, 7) - 1, +date.slice(8)) / 86_400_000

  it('gives the local day of an instant, which is the UTC day of the same calendar date', () => {
    const auckland = timeZone('Pacific/Auckland')
    // 11:00 UTC on 5 April is already 6 April in Auckland (UTC+13 until that morning).
    assert.equal(auckland.dayOf(Date.UTC(2026, 3, 4, 11, 0)), day('2026-04-05'))
    assert.equal(auckland.dayOf(Date.UTC(2026, 3, 4, 10, 59, 59, 999)), day('2026-04-04'))
    const angeles = timeZone('America/Los_Angeles')
    assert.equal(angeles.dayOf(Date.UTC(2026, 2, 8, 7, 59)), day('2026-03-07'))
    assert.equal(angeles.dayOf(Date.UTC(2026, 2, 8, 8, 0)), day('2026-03-08'))
    assert.equal(timeZone('UTC').dayOf(Date.UTC(2026, 0, 1, 23, 59)), day('2026-01-01'))
  })

  it('starts days where their local midnight is, across the clock changes', () => {
    const auckland = timeZone('Pacific/Auckland')
    // New Zealand leaves daylight time at 03:00 on 5 April 2026 (UTC+13 → UTC+12): a 25-hour day.
    const april5 = auckland.startOfDay(day('2026-04-05'))
    assert.equal(april5, Date.UTC(2026, 3, 4, 11))
    assert.equal(auckland.startOfDay(day('2026-04-06')) - april5, 25 * HOUR)
    // And enters it at 02:00 on 27 September (UTC+12 → UTC+13): a 23-hour day.
    const sept27 = auckland.startOfDay(day('2026-09-27'))
    assert.equal(sept27, Date.UTC(2026, 8, 26, 12))
    assert.equal(auckland.startOfDay(day('2026-09-28')) - sept27, 23 * HOUR)
    const angeles = timeZone('America/Los_Angeles')
    assert.equal(angeles.startOfDay(day('2026-03-08')), Date.UTC(2026, 2, 8, 8))
    assert.equal(angeles.startOfDay(day('2026-03-09')), Date.UTC(2026, 2, 9, 7))
    assert.equal(angeles.startOfDay(day('2026-11-01')), Date.UTC(2026, 10, 1, 7))
    assert.equal(angeles.startOfDay(day('2026-11-02')), Date.UTC(2026, 10, 2, 8))
    // Every start is the first instant of its day, by the zone's own reading.
    for (const zone of [auckland, angeles, timeZone('America/Santiago')]) {
      for (let d = day('2026-01-01'); d < day('2027-01-01'); d++) {
        const start = zone.startOfDay(d)
        assert.equal(zone.dayOf(start), d, `${zone.name} ${d}`)
        assert.equal(zone.dayOf(start - 1), d - 1, `${zone.name} ${d}`)
      }
    }
  })

  it('makes each zone once, under its canonical name', () => {
    assert.equal(timeZone('europe/paris'), timeZone('Europe/Paris'))
    assert.equal(timeZone('europe/paris').name, 'Europe/Paris')
    assert.ok(timeZone('UTC') instanceof TimeZone)
    assert.equal(canonicalTimeZone(' Europe/Paris '), 'Europe/Paris')
    assert.equal(canonicalTimeZone('Mars/Olympus'), null)
    assert.equal(canonicalTimeZone(''), null)
    assert.equal(timeZoneOrUtc('Mars/Olympus').name, 'UTC')
    assert.equal(timeZoneOrUtc(null).name, 'UTC')
    // Served UTC once, the name is still no zone for those who check it.
    assert.equal(canonicalTimeZone('Mars/Olympus'), null)
    assert.throws(() => timeZone('Mars/Olympus'), TimeZoneError)
  })

  it('lists UTC and the IANA zones', () => {
    const names = timeZoneNames()
    assert.equal(names[0], 'UTC')
    for (const z of ['Europe/Paris', 'Pacific/Auckland', 'America/Los_Angeles'])
      assert.ok(names.includes(z), z)
    assert.equal(new Set(names).size, names.length)
  })

  it('formats a date and time for the admin in the zone, naming it', () => {
    const at = Date.UTC(2026, 11, 6, 13, 5)
    assert.equal(formatDateTime(at, 'fr', 'UTC'), '6 déc. 2026, 13:05 UTC')
    assert.equal(formatDateTime(at, 'en', 'UTC'), '6 Dec 2026, 13:05 UTC')
    assert.equal(formatDateTime(at, 'fr', 'Europe/Paris'), '6 déc. 2026, 14:05 UTC+1')
    assert.equal(formatDateTime(at, 'en', 'Europe/Paris'), '6 Dec 2026, 14:05 CET')
    assert.equal(formatDateTime(at, 'en', 'Pacific/Auckland'), '7 Dec 2026, 02:05 GMT+13')
    assert.equal(formatDateTime(null, 'fr', 'Europe/Paris'), '')
    assert.equal(timeZone('Europe/Paris').localDateTime(at), '2026-12-06 14:05:00')
  })
})
