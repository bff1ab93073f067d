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
})
