import assert from 'node:assert/strict'
import { mapTypography } from '../../../lib/text/typography'

describe('mapTypography', () => {
  it('turns curly single quotes, low quotes and primes into an apostrophe', () => {
    assert.equal(
      mapTypography('l\u2019heure \u2018ici\u2019 \u201aa 5\u2032'),
      "l'heure 'ici' 'a 5'",
    )
  })

  it('turns curly double quotes and double primes into a straight quote', () => {
    assert.equal(mapTypography('\u201cok\u201d \u201ebien\u201c 12\u2033'), '"ok" "bien" 12"')
  })

  it('turns guillemets into straight quotes, taking the French inner spaces with them', () => {
    assert.equal(
      mapTypography('la \u00ab\u00a0Journ\u00e9e\u00a0\u00bb ici'),
      'la "Journ\u00e9e" ici',
    )
    assert.equal(mapTypography('\u00abnon\u00bb et \u00ab oui \u00bb'), '"non" et "oui"')
  })

  it('turns every kind of dash and the minus sign into a hyphen', () => {
    assert.equal(mapTypography('a\u2013b\u2014c\u2012d\u2212e\u2010f\u2011g'), 'a-b-c-d-e-f-g')
  })

  it('spells out the ellipsis', () => {
    assert.equal(mapTypography('bient\u00f4t\u2026'), 'bient\u00f4t...')
  })

  it('turns Unicode spaces into plain spaces', () => {
    const spaces = '\u00a0\u202f\u2009\u2002\u2003\u2007\u205f\u3000'
    assert.equal(mapTypography(`a${spaces}b`), `a${' '.repeat(spaces.length)}b`)
  })

  it('removes invisible characters: zero-width space, word joiner, BOM, soft hyphen', () => {
    assert.equal(mapTypography('\ufeffgra\u00adtuit\u200b ok\u2060'), 'gratuit ok')
  })

  it('removes joiners next to ASCII but keeps them inside emoji sequences', () => {
    assert.equal(mapTypography('hall\u200d \u200cok'), 'hall ok')
    const family = '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}'
    assert.equal(mapTypography(`famille ${family}`), `famille ${family}`)
  })

  it('turns bullets into hyphens', () => {
    assert.equal(mapTypography('\u2022 un\n\u25e6 deux\n\u25aa trois'), '- un\n- deux\n- trois')
  })

  it('leaves letters and symbols to the encoder', () => {
    const text =
      '\u00ea \u00e2 \u00f4 \u00fb \u00ef \u00e7 \u0153 \u00c7 \u00e9 \u00e0 \u2122 \u00a9 \u20ac \u00b7 \u4e2d'
    assert.equal(mapTypography(text), text)
  })

  it('composes decomposed accents so that é stays in GSM 03.38', () => {
    assert.equal(mapTypography('caf\u0065\u0301'), 'caf\u00e9')
  })

  it('composes an accent once the invisible character between it and its letter is gone', () => {
    assert.equal(mapTypography('caf\u0065\u00ad\u0301'), 'caf\u00e9')
    assert.equal(mapTypography('caf\u0065\u200d\u0301'), 'caf\u00e9')
  })

  it('removes a whole run of joiners next to ASCII, and joiners a mapping leaves next to ASCII', () => {
    assert.equal(mapTypography('a\u200d\u200c\u200d\u00e9'), 'a\u00e9')
    assert.equal(mapTypography('l\u2019\u200d\u00e9t\u00e9'), "l'\u00e9t\u00e9")
    assert.equal(mapTypography('\u00e9\u00a0\u200d\u00e9'), '\u00e9 \u00e9')
  })

  it('removes control characters but leaves line breaks and tabs to the whitespace step', () => {
    assert.equal(mapTypography('a\u0000b\u001bc\u007fd\u0090e'), 'abcde')
    assert.equal(mapTypography('a\tb\nc\rd\ve\ff\u0085g'), 'a\tb\nc\rd\ve\ff\u0085g')
  })

  it('maps in one pass: a second one changes nothing', () => {
    for (const text of ['\u212a\u200d\u00e9', '\f\u200d\u00e9', 'e\u00ad\u0301\u2026\u00bb']) {
      assert.equal(mapTypography(mapTypography(text)), mapTypography(text), JSON.stringify(text))
    }
  })
})
