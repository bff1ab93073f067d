import assert from 'node:assert/strict'
import fc from 'fast-check'
import { analyseSms, foldToGsm7, isGsm7Character } from '../../../lib/sms'
import { checkProperty } from '../../support/fuzz'
import { FRENCH_150, FRENCH_150_IN_GSM } from '../../support/sms-texts'

const isGsm7Text = (text: string) => [...text].every(isGsm7Character)

describe('lib/sms/gsm-fold foldToGsm7', () => {
  it('turns a 150-character French text of 3 UCS-2 parts into one GSM-7 SMS', () => {
    assert.equal([...FRENCH_150].length, 150)
    const before = analyseSms(FRENCH_150)
    assert.equal(before.encoding, 'ucs2')
    assert.equal(before.segments, 3)

    const fold = foldToGsm7(FRENCH_150)
    assert.equal(fold.folded, true)
    assert.equal(fold.text, FRENCH_150_IN_GSM)
    assert.deepEqual(fold.replacements, [
      { from: 'ê', to: 'e' },
      { from: 'ç', to: 'c' },
      { from: 'À', to: 'A' },
      { from: 'ô', to: 'o' },
    ])
    const after = analyseSms(fold.text)
    assert.equal(after.encoding, 'gsm7')
    assert.equal(after.segments, 1)
  })

  it('replaces the French letters GSM lacks with the closest ones', () => {
    const cases: Array<[string, string]> = [
      ['ê â ô û î', 'e a o u i'],
      ['Ê Â Ô Û Î', 'E A O U I'],
      ['ï ë ÿ Ï Ë Ÿ', 'i e y I E Y'],
      ['ç', 'c'],
      ['cœur Œuvre', 'coeur OEuvre'],
      ['À È Ù Ì Ò', 'A E U I O'],
    ]
    for (const [input, expected] of cases) assert.equal(foldToGsm7(input).text, expected, input)
  })

  it('keeps the letters GSM has, accents included, and then changes nothing', () => {
    const gsm = 'é è ù ì ò à Ç É Ä Ö Ñ Ü ß Å Æ Ø ä ö ñ ü å æ ø'
    assert.deepEqual(foldToGsm7(gsm), {
      text: gsm,
      folded: false,
      replacements: [],
      unfoldable: [],
    })
    // æ stays even next to letters that are replaced.
    assert.equal(foldToGsm7('Ærøskøbing, cœur').text, 'Ærøskøbing, coeur')
  })

  it('folds the letters of other Latin alphabets by decomposition', () => {
    const cases: Array<[string, string]> = [
      ['Łódź', 'Lodz'],
      ['Kraków, Gdańsk, Wrocław', 'Krakow, Gdansk, Wroclaw'],
      ['Đakovo, Čakovec, Šibenik', 'Dakovo, Cakovec, Sibenik'],
      ['İstanbul, ılık, şehir, ğ', 'Istanbul, ilik, sehir, g'],
      ['Brașov, Timișoara, Țara', 'Brasov, Timisoara, Tara'],
      ['Þórður, Reykjavík', 'THordur, Reykjavik'],
      ['Hà Nội, Phở, Đà Nẵng', 'Hà Noi, Pho, Dà Nang'],
      ['Straße, GROẞ', 'Straße, GROSS'],
      ['ĳs, Ĳssel', 'ijs, IJssel'],
      ['coŀlecció', 'colleccio'],
      ['ǿ ǽ', 'ø æ'],
    ]
    for (const [input, expected] of cases) assert.equal(foldToGsm7(input).text, expected, input)
    // The middle dot of "l·l" is no letter and GSM lacks it: that text stays as written.
    assert.deepEqual(foldToGsm7('col·lecció'), {
      text: 'col·lecció',
      folded: false,
      replacements: [],
      unfoldable: ['·'],
    })
  })

  it('folds every Latin letter with a diacritic (Latin-1, Extended-A, Extended Additional)', () => {
    // Letters of their own rather than a letter with a mark: kra, eng, and medieval forms.
    const ownLetters = new Set([...'ĸŊŋẜẝẟẚỺỻỼỽỾỿ'])
    const ranges: Array<[number, number]> = [
      [0xc0, 0x17f],
      [0x1e00, 0x1eff],
    ]
    let letters = 0
    for (const [from, to] of ranges) {
      for (let code = from; code <= to; code++) {
        const ch = String.fromCodePoint(code)
        if (!/\p{L}/u.test(ch) || ownLetters.has(ch) || ch === '×' || ch === '÷') continue
        letters++
        const fold = foldToGsm7(ch)
        assert.ok(isGsm7Text(fold.text), `${ch} (U+${code.toString(16)}) gave ${fold.text}`)
        assert.ok(/^[\p{L}']+$/u.test(fold.text), `${ch} gave a non-letter: ${fold.text}`)
      }
    }
    assert.ok(letters > 400, `only ${letters} letters checked`)
  })

  it('writes Greek capitals in GSM: its own ten kept, the Latin look-alikes as Latin', () => {
    assert.equal(foldToGsm7('ΔΦΓΛΩΠΨΣΘΞ').folded, false)
    assert.equal(foldToGsm7('ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ').text, 'ABEZHIKMNOPTYX')
    assert.equal(foldToGsm7('ΑΘΗΝΑ, ΆΡΤΑ, ΏΡΑ').text, 'AΘHNA, APTA, ΩPA')
  })

  it('keeps lower-case Greek and the micro sign: μ is not M', () => {
    for (const text of ['5 µg', 'Καλημέρα', 'rayons α']) {
      const fold = foldToGsm7(text)
      assert.equal(fold.text, text)
      assert.equal(fold.folded, false)
      assert.equal(analyseSms(fold.text).encoding, 'ucs2')
    }
  })

  it('leaves a text with an emoji or Cyrillic exactly as written, ê included', () => {
    for (const [text, unfoldable] of [
      ['Votre fenêtre est prête 👍', ['👍']],
      ['Fenêtre: Привет', [...'Привет']],
      ['Livraison 🇫🇷 ç', ['🇫', '🇷']],
      ['مرحبا ê', [...'مرحبا']],
      ['你好 ç', [...'你好']],
    ] as const) {
      const fold = foldToGsm7(text)
      assert.equal(fold.text, text)
      assert.equal(fold.folded, false)
      assert.deepEqual(fold.replacements, [])
      assert.deepEqual(fold.unfoldable, unfoldable)
      assert.equal(analyseSms(fold.text).encoding, 'ucs2')
    }
  })

  it('turns fancy letters (mathematical, full-width, ligatures) into plain ones', () => {
    assert.equal(foldToGsm7('𝐁𝐨𝐧𝐣𝐨𝐮𝐫 ﬁn Ｏｋ').text, 'Bonjour fin Ok')
  })

  it('drops a combining mark left on a GSM letter, keeps é composed', () => {
    assert.equal(foldToGsm7('q\u0303 e\u0301').text, 'q é')
    // A keycap or an emoji's presentation selector is not an accent.
    assert.equal(foldToGsm7('1\ufe0f\u20e3').folded, false)
    assert.equal(foldToGsm7('\u2764\ufe0f').folded, false)
  })

  it('maps the apostrophes GSM lacks: backquote, acute accent, modifier letter', () => {
    assert.equal(foldToGsm7('l`eau l´eau lʼeau').text, "l'eau l'eau l'eau")
  })

  it('leaves a text that folding would make longer as written', () => {
    // ﬃ is one UCS-2 unit and three GSM letters: 67 of them fill one UCS-2 SMS, two in GSM-7.
    const ligatures = 'ﬃ'.repeat(67)
    assert.equal(analyseSms(ligatures).segments, 1)
    assert.equal(analyseSms('ffi'.repeat(67)).segments, 2)
    const fold = foldToGsm7(ligatures)
    assert.equal(fold.text, ligatures)
    assert.equal(fold.folded, false)
  })

  const character = fc.oneof(
    fc.constantFrom(...'aeiouAEIOU !?.,\n0123456789€[]'),
    fc.constantFrom(...'éèàùÇÉÄÖÑÜßÅÆØäöñüåæøΔΦΓΛΩΠΨΣΘΞ'),
    fc.constantFrom(...'êâôûîïëçœŒÀÈÎÔÛłđıŀĳÞðẞΑΒΕΆΏﬁﬃ`´ʼ'),
    fc.constantFrom('\u0301', '\u0303', '\ufe0f', '\u200d', '👍', 'д', 'µ', 'α', '中'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  )
  const text = fc.array(character, { maxLength: 400 }).map((cs) => cs.join(''))

  it('gives GSM-7 or the text as written, never more SMS, and is stable (property)', () => {
    checkProperty(
      fc.property(text, (input) => {
        const fold = foldToGsm7(input)
        if (fold.folded) {
          assert.ok(isGsm7Text(fold.text))
          assert.deepEqual(fold.unfoldable, [])
        } else {
          assert.equal(fold.text, input)
        }
        assert.ok(analyseSms(fold.text).segments <= analyseSms(input).segments)
        // Folding again changes nothing: the MX and the preview agree whatever runs twice.
        assert.equal(foldToGsm7(fold.text).text, fold.text)
      }),
      300,
    )
  })
})
