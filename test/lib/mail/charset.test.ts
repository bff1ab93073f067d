import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import {
  decodeTextBody,
  decodeUtf8OrWindows1252,
  repairHeaderLine,
} from '../../../lib/mail/charset'
import { parseEmail } from '../../../lib/mail/parse'

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))))

/** A two-part message, so that mailparser (not the plain-text fast path) reads it. */
function multipart(partHeaders: string, body: Buffer, subject: Buffer = Buffer.from('x')): Buffer {
  return Buffer.concat([
    Buffer.from('From: a@acme.example\r\nSubject: '),
    subject,
    Buffer.from(
      '\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n' +
        `${partHeaders}\r\n\r\n`,
    ),
    body,
    Buffer.from('\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\nxx\r\n--b--\r\n'),
  ])
}

describe('lib/mail/charset', () => {
  describe('decodeUtf8OrWindows1252', () => {
    it('reads well-formed UTF-8 as UTF-8', () => {
      assert.equal(decodeUtf8OrWindows1252(bytes('Réunion à 15h — 5 €')), 'Réunion à 15h — 5 €')
    })

    it('reads bytes that are not UTF-8 as Windows-1252, C1 range included', () => {
      assert.equal(
        decodeUtf8OrWindows1252(bytes('R', [0xe9], 'union ', [0x80, 0x20, 0x93], 'ok', [0x94])),
        'Réunion € “ok”',
      )
    })

    it('keeps the UTF-8 parts of a text that mixes both', () => {
      assert.equal(decodeUtf8OrWindows1252(bytes('caf', [0xe9], ' — été')), 'café — été')
    })

    it('takes overlong forms, surrogates and cut sequences byte by byte', () => {
      assert.equal(decodeUtf8OrWindows1252(bytes([0xc0, 0xaf])), 'À¯')
      assert.equal(decodeUtf8OrWindows1252(bytes([0xed, 0xa0, 0x80])), 'í\u00a0€')
      assert.equal(decodeUtf8OrWindows1252(bytes('a', [0xe2, 0x82])), 'aâ‚')
    })
  })

  describe('decodeTextBody', () => {
    it('decodes no label, UTF-8, ASCII and Latin-1 labels by the bytes', () => {
      for (const label of [undefined, 'utf-8', 'UTF8', 'us-ascii', 'iso-8859-1', 'windows-1252']) {
        assert.equal(decodeTextBody(bytes('caf', [0xe9]), label), 'café', String(label))
        assert.equal(decodeTextBody(bytes('café'), label), 'café', String(label))
      }
    })

    it('decodes UTF-7 and leaves other charsets to the parser', () => {
      assert.equal(decodeTextBody(bytes('caf+AOk-'), 'UTF-7'), 'café')
      assert.equal(decodeTextBody(bytes('x'), 'shift_jis'), null)
      assert.equal(decodeTextBody(bytes('x'), 'koi8-r'), null)
    })
  })

  it('repairHeaderLine re-encodes a Windows-1252 header as UTF-8 and leaves UTF-8 alone', () => {
    const latin = bytes('Subject: caf', [0xe9]).toString('latin1')
    assert.equal(Buffer.from(repairHeaderLine(latin), 'latin1').toString('utf8'), 'Subject: café')
    const utf8 = bytes('Subject: café').toString('latin1')
    assert.equal(repairHeaderLine(utf8), utf8)
  })

  describe('through parseEmail', () => {
    it('decodes a Latin-1 part without a charset, and a Latin-1 Subject', async () => {
      const mail = await parseEmail(
        multipart(
          'Content-Type: text/plain',
          bytes('Caf', [0xe9], ' ', [0x80]),
          bytes('', [0xe9, 0x74, 0xe9]),
        ),
      )
      assert.equal(mail.text?.trim(), 'Café €')
      assert.equal(mail.subject, 'été')
    })

    it('decodes a part that claims UTF-8 but is Windows-1252', async () => {
      const mail = await parseEmail(
        multipart(
          'Content-Type: text/plain; charset=utf-8',
          bytes('d', [0xe9], 'j', [0xe0], ' vu'),
        ),
      )
      assert.equal(mail.text?.trim(), 'déjà vu')
    })

    it('decodes UTF-7 parts, plain and HTML, also quoted-printable', async () => {
      const plain = await parseEmail(
        multipart('Content-Type: text/plain; charset="utf-7"', bytes('Hi Mom -+Jjo--!')),
      )
      assert.equal(plain.text?.trim(), 'Hi Mom -\u263a-!')
      const html = await parseEmail(
        multipart(
          'Content-Type: text/html; charset=UTF-7\r\nContent-Transfer-Encoding: quoted-printable',
          bytes('<p>caf+AOk-</p>'),
        ),
      )
      assert.equal(String(html.html).trim(), '<p>café</p>')
    })

    it('gives UTF-8 a part whose label the bytes contradict', async () => {
      const mail = await parseEmail(
        multipart('Content-Type: text/plain; charset=big5', bytes('Prix : 5 € — ça va')),
      )
      assert.equal(mail.text?.trim(), 'Prix : 5 € — ça va')
    })

    it('still decodes other charsets by their label', async () => {
      const mail = await parseEmail(
        multipart(
          'Content-Type: text/plain; charset=koi8-r',
          bytes([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]),
        ),
      )
      assert.equal(mail.text?.trim(), 'Привет')
    })

    it('reads the same from a stream as from a buffer', async () => {
      const raw = multipart('Content-Type: text/plain', bytes('caf', [0xe9]))
      const fromStream = await parseEmail(Readable.from([raw]))
      assert.equal(fromStream.text, (await parseEmail(raw)).text)
    })
  })
})
