import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { parseEmail } from '../../../lib/mail/parse'
import { parsePlainTextEmail } from '../../../lib/mail/plain-text'
import { detectAutomaticMail } from '../../../lib/mail/automatic'
import { emailToSmsText } from '../../../lib/text/sms-text'

const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures', 'mail')

function message(headers: string[], body: string): Buffer {
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`)
}

const BASE = [
  'From: Alice <alice@acme.example>',
  'To: 0612345678@sms.example.com',
  'Date: Fri, 27 Nov 2026 10:00:00 +0100',
]

/** Messages the fast path must take, and give exactly what parse.ts's mailparser gives. */
const TAKEN: Record<string, Buffer> = {
  'no MIME headers': message(
    [...BASE, 'Subject: hi', 'Message-ID: <a1@acme.example>'],
    'Hello there\r\n',
  ),
  'utf-8 8bit': message(
    [
      ...BASE,
      'Subject: rdv',
      'Message-ID: <a2@acme.example>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset="UTF-8"',
      'Content-Transfer-Encoding: 8bit',
    ],
    'Réunion à 15h — ça coûte 5 €\r\n\r\n-- \r\nAlice\r\n',
  ),
  'folded subject, LF line ends': Buffer.from(
    'From: a@acme.example\nSubject: a long\n subject line\nMessage-ID: <a3@acme.example>\nContent-Type: text/plain; charset=us-ascii\n\nOnly the subject matters\n',
  ),
  'empty body, subject used': message(
    [...BASE, 'Subject: Server down', 'Message-ID: <a4@acme.example>'],
    '',
  ),
  'Message-ID without angle brackets': message(
    [...BASE, 'Subject: hi', 'Message-ID: a7@acme.example'],
    'Hello\r\n',
  ),
  'auto-submitted': message(
    [...BASE, 'Subject: away', 'Auto-Submitted: auto-replied', 'Message-ID: <a5@acme.example>'],
    'I am away\r\n',
  ),
  'quoted reply': message(
    [
      ...BASE,
      'Subject: Re: x',
      'Message-ID: <a6@acme.example>',
      'Content-Type: text/plain; charset=utf-8; format=fixed',
    ],
    'Yes, 3pm.\r\n\r\nOn Thu, 26 Nov 2026 at 09:00, Bob <bob@acme.example> wrote:\r\n> Can we meet?\r\n',
  ),
  // Both readers take undeclared 8-bit text as Windows-1252 where it is not UTF-8.
  'Latin-1 body without a charset': Buffer.concat([
    message([...BASE, 'Subject: rdv', 'Message-ID: <a8@acme.example>'], 'R'),
    Buffer.from([0xe9, 0x75, 0x6e, 0x69, 0x6f, 0x6e, 0x20, 0x80, 0x0d, 0x0a]),
  ]),
}

/** Messages the fast path must leave to mailparser. */
const LEFT: Record<string, Buffer> = {
  'quoted-printable': message(
    [
      ...BASE,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
    ],
    'R=C3=A9union\r\n',
  ),
  'latin-1': message([...BASE, 'Content-Type: text/plain; charset=iso-8859-1'], 'Hello\r\n'),
  'encoded-word subject': message([...BASE, 'Subject: =?UTF-8?Q?R=C3=A9union?='], 'x\r\n'),
  html: message([...BASE, 'Content-Type: text/html; charset=utf-8'], '<p>x</p>\r\n'),
  multipart: message(
    [...BASE, 'Content-Type: multipart/alternative; boundary="b"'],
    '--b\r\n\r\nx\r\n--b--\r\n',
  ),
  flowed: message(
    [...BASE, 'Content-Type: text/plain; charset=utf-8; format=flowed'],
    'a \r\nb\r\n',
  ),
  '8-bit header': Buffer.concat([
    Buffer.from('Subject: '),
    Buffer.from('Réunion', 'utf8'),
    Buffer.from('\r\n\r\nx\r\n'),
  ]),
  'no header/body separator': Buffer.from('Subject: x\r\n'),
  // mailparser makes a text part with a disposition other than inline an attachment.
  'content-disposition': message([...BASE, 'Content-Disposition: attachment'], 'x\r\n'),
  'two subjects': message([...BASE, 'Subject:', 'Subject: second'], '\r\n'),
  'two dates': message([...BASE, 'Date: Sat, 28 Nov 2026 10:00:00 +0100'], 'x\r\n'),
}

async function sameAsMailparser(raw: Buffer): Promise<void> {
  const fast = parsePlainTextEmail(raw)
  assert.ok(fast, 'fast path not taken')
  // A stream skips the fast path: this is mailparser with parse.ts's charset handling.
  const slow = await parseEmail(Readable.from([raw]))
  assert.equal(fast.messageId, slow.messageId)
  assert.equal(fast.subject, slow.subject)
  assert.equal(fast.date?.toISOString(), slow.date?.toISOString())
  assert.equal(detectAutomaticMail(fast), detectAutomaticMail(slow))
  for (const marker of [null, 'Alice']) {
    assert.deepEqual(
      await emailToSmsText(fast, { signatureMarker: marker }),
      await emailToSmsText(slow, { signatureMarker: marker }),
    )
  }
}

describe('lib/mail/plain-text', () => {
  it('reads undeclared 8-bit text as UTF-8 where it is, else as Windows-1252', () => {
    const utf8 = parsePlainTextEmail(
      Buffer.concat([message(BASE, ''), Buffer.from('Réunion 5 €\r\n', 'utf8')]),
    )
    assert.equal(utf8?.text, 'Réunion 5 €\n')
    const latin = parsePlainTextEmail(
      Buffer.concat([message(BASE, ''), Buffer.from([0x52, 0xe9, 0x20, 0x35, 0x20, 0x80])]),
    )
    assert.equal(latin?.text, 'Ré 5 €')
  })

  for (const [name, raw] of Object.entries(TAKEN)) {
    it(`reads "${name}" as mailparser would`, () => sameAsMailparser(raw))
  }

  for (const [name, raw] of Object.entries(LEFT)) {
    it(`leaves "${name}" to mailparser`, () => assert.equal(parsePlainTextEmail(raw), null))
  }

  it('agrees with mailparser on every fixture it takes', async () => {
    let taken = 0
    for (const file of fs.readdirSync(FIXTURES)) {
      const raw = fs.readFileSync(path.join(FIXTURES, file))
      if (!parsePlainTextEmail(raw)) continue
      taken += 1
      await sameAsMailparser(raw)
    }
    assert.ok(taken >= 3, `only ${taken} fixtures took the fast path`)
  })
})
