import assert from 'node:assert/strict'
import { previewSms } from '../../../lib/text/preview'

const ACCOUNT = { signatureMarker: null, segmentCap: 4 }

describe('lib/text/preview previewSms', () => {
  it('counts a plain GSM-7 text as one segment of 160', async () => {
    const p = await previewSms('Hello Paul, the van arrives at 2pm.', ACCOUNT)
    assert.equal(p.text, 'Hello Paul, the van arrives at 2pm.')
    assert.equal(p.encoding, 'GSM-7')
    assert.equal(p.segments, 1)
    assert.equal(p.perSegment, 160)
    assert.equal(p.characters, 35)
    assert.deepEqual(p.ucs2Culprits, [])
    assert.equal(p.overCap, false)
    assert.equal(p.empty, false)
  })

  it('names the French ê that forces UCS-2, once, at its first position', async () => {
    // é and è are GSM-7; ê is not.
    const p = await previewSms('Le colis est prêt, la fenêtre est réparée.', ACCOUNT)
    assert.equal(p.encoding, 'UCS-2')
    assert.equal(p.perSegment, 70)
    assert.equal(p.segments, 1)
    assert.deepEqual(p.ucs2Culprits, [{ char: 'ê', codePoint: 'U+00EA', position: 15 }])
    assert.deepEqual(p.pieces, [
      { text: 'Le colis est pr', ucs2: false },
      { text: 'ê', ucs2: true },
      { text: 't, la fen', ucs2: false },
      { text: 'ê', ucs2: true },
      { text: 'tre est réparée.', ucs2: false },
    ])
  })

  it('keeps an emoji whole and counts it as two UTF-16 units', async () => {
    const p = await previewSms('Livré 👍 merci', ACCOUNT)
    assert.equal(p.encoding, 'UCS-2')
    assert.equal(p.characters, 13)
    assert.equal(p.units, 14)
    assert.deepEqual(p.ucs2Culprits, [{ char: '👍', codePoint: 'U+1F44D', position: 6 }])
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
    const p = await previewSms(email, { signatureMarker: 'Jeanne Martin', segmentCap: 4 })
    assert.equal(p.text, 'Bonjour,\n\nLe rendez-vous est confirmé à 14h - "salle B"...')
    assert.equal(p.encoding, 'GSM-7')
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
    assert.equal(p.text, 'Oui, 15h me va.')
  })

  it('warns when the text needs more segments than the cap', async () => {
    const p = await previewSms('a'.repeat(161), { signatureMarker: null, segmentCap: 1 })
    assert.equal(p.segments, 2)
    assert.equal(p.perSegment, 153)
    assert.equal(p.overCap, true)
    assert.equal(p.segmentCap, 1)
    const within = await previewSms('a'.repeat(160), { signatureMarker: null, segmentCap: 1 })
    assert.equal(within.overCap, false)
  })

  it('reports an email with nothing but a client footer as empty', async () => {
    const p = await previewSms('\nSent from my iPhone\n', ACCOUNT)
    assert.equal(p.empty, true)
    assert.equal(p.segments, 0)
    assert.equal(p.text, '')
  })

  it('keeps a body that is nothing but a signature rather than send nothing', async () => {
    const p = await previewSms('\n-- \nJeanne', ACCOUNT)
    assert.equal(p.empty, false)
    assert.equal(p.text, '--\nJeanne')
  })
})
