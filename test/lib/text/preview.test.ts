import assert from 'node:assert/strict'
import { previewSms } from '../../../lib/text/preview'
import { FRENCH_150, FRENCH_150_IN_GSM } from '../../support/sms-texts'

const ACCOUNT = { signatureMarker: null, segmentCap: 4, gsmOnly: false }

describe('lib/text/preview previewSms', () => {
  it('counts a plain GSM-7 text as one segment of 160', async () => {
    const p = await previewSms('Hello Paul, the van arrives at 2pm.', ACCOUNT)
    assert.equal(p.written.text, 'Hello Paul, the van arrives at 2pm.')
    assert.equal(p.written.encoding, 'GSM-7')
    assert.equal(p.written.segments, 1)
    assert.equal(p.written.perSegment, 160)
    assert.equal(p.written.characters, 35)
    assert.deepEqual(p.written.ucs2Culprits, [])
    assert.equal(p.written.overCap, false)
    assert.equal(p.empty, false)
  })

  it('names the French ê that forces UCS-2, once, at its first position', async () => {
    // é and è are GSM-7; ê is not.
    const p = await previewSms('Le colis est prêt, la fenêtre est réparée.', ACCOUNT)
    assert.equal(p.written.encoding, 'UCS-2')
    assert.equal(p.written.perSegment, 70)
    assert.equal(p.written.segments, 1)
    assert.deepEqual(p.written.ucs2Culprits, [{ char: 'ê', codePoint: 'U+00EA', position: 15 }])
    assert.deepEqual(p.written.pieces, [
      { text: 'Le colis est pr', ucs2: false },
      { text: 'ê', ucs2: true },
      { text: 't, la fen', ucs2: false },
      { text: 'ê', ucs2: true },
      { text: 'tre est réparée.', ucs2: false },
    ])
  })

  it('keeps an emoji whole and counts it as two UTF-16 units', async () => {
    const p = await previewSms('Livré 👍 merci', ACCOUNT)
    assert.equal(p.written.encoding, 'UCS-2')
    assert.equal(p.written.characters, 13)
    assert.equal(p.written.units, 14)
    assert.deepEqual(p.written.ucs2Culprits, [{ char: '👍', codePoint: 'U+1F44D', position: 6 }])
  })

  it('cuts at the signature marker, then maps typography and tidies whitespace', async () => {
    const email = [
      'Bonjour,',
      '',
      '',
      'Le rendez\u2011vous est confirmé à 14h \u2014 “salle B”…',
      '',
      'Jeanne Martin',
      'Directrice commerciale',
      '+33 1 23 45 67 89',
    ].join('\n')
    const p = await previewSms(email, { ...ACCOUNT, signatureMarker: 'Jeanne Martin' })
    assert.equal(p.written.text, 'Bonjour,\n\nLe rendez-vous est confirmé à 14h - "salle B"...')
    assert.equal(p.written.encoding, 'GSM-7')
  })

  it('strips a quoted reply under its attribution line', async () => {
    const email = [
      'Oui, 15h me va.',
      '',
      'Le 3 mars 2026 à 10:12, Paul Durand <paul@example.com> a écrit :',
      '> Est-ce que 15h vous convient ?',
      '> Paul',
    ].join('\n')
    const p = await previewSms(email, ACCOUNT)
    assert.equal(p.written.text, 'Oui, 15h me va.')
  })

  it('warns when the text needs more segments than the cap', async () => {
    const p = await previewSms('a'.repeat(161), { ...ACCOUNT, segmentCap: 1 })
    assert.equal(p.written.segments, 2)
    assert.equal(p.written.perSegment, 153)
    assert.equal(p.written.overCap, true)
    assert.equal(p.segmentCap, 1)
    const within = await previewSms('a'.repeat(160), { ...ACCOUNT, segmentCap: 1 })
    assert.equal(within.written.overCap, false)
  })

  it('reports an email with nothing but a client footer as empty', async () => {
    const p = await previewSms('\nSent from my iPhone\n', ACCOUNT)
    assert.equal(p.empty, true)
    assert.equal(p.written.segments, 0)
    assert.equal(p.written.text, '')
  })

  it('shows the text as written and in GSM side by side: 3 UCS-2 parts against 1 GSM-7', async () => {
    const p = await previewSms(FRENCH_150, { ...ACCOUNT, segmentCap: 2 })
    assert.equal(p.folded, true)
    assert.equal(p.written.text, FRENCH_150)
    assert.equal(p.written.encoding, 'UCS-2')
    assert.equal(p.written.segments, 3)
    assert.equal(p.written.perSegment, 67)
    assert.equal(p.written.overCap, true)
    assert.equal(p.gsm.text, FRENCH_150_IN_GSM)
    assert.equal(p.gsm.encoding, 'GSM-7')
    assert.equal(p.gsm.segments, 1)
    assert.equal(p.gsm.perSegment, 160)
    assert.equal(p.gsm.overCap, false)
    assert.deepEqual(p.gsm.ucs2Culprits, [])
    assert.deepEqual(
      p.replacements.map((r) => `${r.from}${r.to}`),
      ['êe', 'çc', 'ÀA', 'ôo'],
    )
    // The setting is off: the MX sends the text as written, and would refuse it over a cap of 2.
    assert.equal(p.sends, 'written')
    const on = await previewSms(FRENCH_150, { ...ACCOUNT, segmentCap: 2, gsmOnly: true })
    assert.equal(on.sends, 'gsm')
    assert.deepEqual(on.gsm, p.gsm)
  })

  it('names what GSM has no equivalent for, and leaves the text as written', async () => {
    const p = await previewSms('Fenêtre prête 👍 merci', { ...ACCOUNT, gsmOnly: true })
    assert.equal(p.folded, false)
    assert.deepEqual(p.gsm, p.written)
    assert.equal(p.gsm.text, 'Fenêtre prête 👍 merci')
    assert.equal(p.gsm.encoding, 'UCS-2')
    assert.deepEqual(p.replacements, [])
    assert.deepEqual(p.unfoldable, [{ char: '👍', codePoint: 'U+1F44D', position: 14 }])
  })

  it('has nothing to fold in a GSM-7 text', async () => {
    const p = await previewSms('Rendez-vous à 14h, salle B.', { ...ACCOUNT, gsmOnly: true })
    assert.equal(p.folded, false)
    assert.deepEqual(p.unfoldable, [])
    assert.equal(p.gsm.encoding, 'GSM-7')
  })

  it('keeps a body that is nothing but a signature rather than send nothing', async () => {
    const p = await previewSms('\n-- \nJeanne', ACCOUNT)
    assert.equal(p.empty, false)
    assert.equal(p.written.text, '--\nJeanne')
  })
})
