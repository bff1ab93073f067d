import assert from 'node:assert/strict'
import { parseSmsNumber } from '../../../lib/phone'
import {
  effectiveDestinations,
  parseDestinationList,
  refusedDestination,
} from '../../../lib/limits/destinations'

function destination(number: string) {
  const parsed = parseSmsNumber(number, 'FR')
  assert.ok(parsed.ok, number)
  return parsed
}

describe('allowed destinations', () => {
  it('reads countries and prefixes, upper-cased, sorted and without repeats', () => {
    assert.deepEqual(parseDestinationList(' be, FR,+881 de  be'), {
      ok: true,
      entries: ['+881', 'BE', 'DE', 'FR'],
    })
    assert.deepEqual(parseDestinationList(''), { ok: true, entries: [] })
  })

  it('names the entry it cannot read', () => {
    const bad = parseDestinationList('BE, Belgium')
    assert.equal(bad.ok, false)
    assert.match(!bad.ok ? bad.message : '', /"Belgium" is neither a country code/)
    assert.equal(parseDestinationList('+0881').ok, false)
    assert.equal(parseDestinationList('XX').ok, false)
  })

  it("allows the account's own country and nothing else by default", () => {
    const allowed = effectiveDestinations('FR', [])
    assert.equal(refusedDestination(destination('+33612345678'), allowed), null)
    assert.equal(refusedDestination(destination('+32470123456'), allowed), 'in BE')
    // Overseas departments are regions of their own.
    assert.equal(refusedDestination(destination('+590690123456'), allowed), 'in GP')
  })

  it('refuses satellite and other non-geographic ranges unless a prefix lists them', () => {
    const sat = destination('+881612345678')
    assert.equal(sat.country, undefined)
    assert.equal(
      refusedDestination(sat, effectiveDestinations('FR', ['BE', 'GB'])),
      'a satellite or other non-geographic number (+881)',
    )
    assert.equal(
      refusedDestination(destination('+870772123456'), ['FR']),
      'a satellite or other non-geographic number (+870)',
    )
    assert.equal(refusedDestination(sat, effectiveDestinations('FR', ['+881'])), null)
    assert.notEqual(refusedDestination(sat, effectiveDestinations('FR', ['+8817'])), null)
  })

  it('allows listed countries', () => {
    const allowed = effectiveDestinations('FR', ['BE'])
    assert.deepEqual(allowed, ['FR', 'BE'])
    assert.equal(refusedDestination(destination('+32470123456'), allowed), null)
  })
})
