import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { parseEmail } from '../../../lib/mail/parse'

const fixture = (name: string): string => path.join(__dirname, '../../fixtures/mail', name)

describe('parseEmail', () => {
  it('parses a Buffer, keeping the headers and the envelope fields', async () => {
    const mail = await parseEmail(fs.readFileSync(fixture('plain-ascii.eml')))
    assert.equal(mail.subject, 'Delivery window')
    assert.equal(mail.messageId, '<20250303091458.4471@mail.example.com>')
    // Single-part plain text takes the fast path, which leaves address headers as text.
    assert.match(String(mail.headers.get('from')), /<alice\.martin@example\.com>/)
    assert.equal(mail.date?.toISOString(), '2025-03-03T08:14:58.000Z')
    assert.deepEqual(mail.headers.get('content-type'), {
      value: 'text/plain',
      params: { charset: 'us-ascii' },
    })
    assert.ok(
      mail.headerLines.some((h) => h.key === 'received' && h.line.includes('mx1.sms.example.com')),
    )
    assert.match(mail.text ?? '', /^Hi Paul,\n\nThe van will reach your site/)
  })

  it('parses a string and decodes quoted-printable ISO-8859-1', async () => {
    const mail = await parseEmail(fs.readFileSync(fixture('fr-qp-latin1.eml'), 'ascii'))
    assert.equal(mail.subject, 'Votre véhicule est prêt')
    assert.match(mail.text ?? '', /votre véhicule est prêt\.\nVous pouvez le récupérer dès demain/)
    assert.match(mail.text ?? '', /Garage Ça Roule/)
  })

  it('parses a stream and decodes base64', async () => {
    const mail = await parseEmail(fs.createReadStream(fixture('base64.eml')))
    assert.equal(mail.subject, 'Réunion de chantier')
    assert.equal(
      mail.text,
      'Rappel : la réunion de chantier est décalée à 11h.\nSalle B, 2e étage, bâtiment Est.\n',
    )
  })

  it('rejects when the stream fails', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('connection reset'))
      },
    })
    await assert.rejects(parseEmail(broken), /connection reset/)
  })

  it('describes attachments without keeping their content', async () => {
    const mail = await parseEmail(fs.readFileSync(fixture('alternative.eml')))
    assert.equal(mail.attachments.length, 1)
    const [pdf] = mail.attachments
    assert.equal(pdf.filename, 'plan-acces.pdf')
    assert.equal(pdf.contentType, 'application/pdf')
    assert.equal(pdf.size, 1540)
    assert.equal(pdf.content.length, 0)
    assert.equal(
      mail.text,
      "Le portail principal sera fermé samedi.\nPassez par l'entrée de la rue Pasteur, le code est 4521.\n",
    )
    assert.match(String(mail.html), /\(Version HTML\)/)
  })

  it('leaves text empty for HTML-only mail so that our converter reads the HTML', async () => {
    const mail = await parseEmail(fs.readFileSync(fixture('html-only.eml')))
    assert.equal(mail.text, '')
    assert.match(String(mail.html), /<h1[^>]*>Changement de planning<\/h1>/)
  })

  it('decodes an encoded Subject and tolerates a message without body', async () => {
    const mail = await parseEmail(fs.readFileSync(fixture('subject-only.eml')))
    assert.equal(mail.subject, 'ALERTE : onduleur salle 1 sur batterie – autonomie 12 min')
    assert.equal((mail.text ?? '').trim(), '')
  })

  it('keeps headers that only the automatic-mail checks read', async () => {
    const mail = await parseEmail(fs.readFileSync(fixture('dsn.eml')))
    assert.deepEqual(mail.headers.get('content-type'), {
      value: 'multipart/report',
      params: {
        'report-type': 'delivery-status',
        boundary: '5D2F31A0C4.1741005041/mail.example.com',
      },
    })
    assert.equal(mail.headers.get('auto-submitted'), 'auto-replied')
  })
})
