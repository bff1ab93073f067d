import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { parseEmail, UnreadableMessageError } from '../../../lib/mail/parse'
import { parsePlainTextEmail } from '../../../lib/mail/plain-text'
import { detectAutomaticMail } from '../../../lib/mail/automatic'
import { draftSms, readMessage, retryIdentity } from '../../../lib/mx/message'
import type { PlannedRecipient } from '../../../lib/mx/recipient-policy'
import { analyseSms, foldToGsm7 } from '../../../lib/sms'
import { emailToSmsText, mapTypography, normaliseWhitespace } from '../../../lib/text'
import { testAccount, testRecipient } from '../../support/accounts'
import { CASE_TIMEOUT_MS, checkAsyncProperty, show } from '../../support/fuzz'

/*
 * Random MIME messages through the path the MX takes at the end of DATA (plugins/data.sms_text):
 * readMessage, then draftSms. Whatever the bytes, the outcome must be a decision the plugin can
 * answer with: mailparser's structural limits (too many parts, an oversized header block)
 * included, which become a permanent 5.6.0. Anything thrown, or a case running past its
 * deadline, fails the property.
 */

const TEXTS = [
  'Bonjour,\n\nLivraison demain à 8h.\n\nCordialement,\nJean Dupont',
  'Hi Paul,\nThe van is late.\n\nOn Mon, 3 Mar 2025 at 09:14, Alice <a@example.com> wrote:\n> Where is it?',
  'Oui\n\n-----Original Message-----\nFrom: Alice\nSent: Monday\nTo: Paul\n\nQuestion',
  'Prix : 12 € — « ok » … l’équipe\n-- \nSignature',
  'Ça coûte cher, très cher : ê â ô œ',
  '😀 emoji 👨‍👩‍👧',
  '',
  '   \n\t\n',
]

const HTML = [
  '<p>Bonjour</p><div class="gmail_quote">quoted</div>',
  '<html><head><style>p{}</style></head><body><p>Salut &amp; merci&nbsp;!</p></body></html>',
  '<div>Answer</div><blockquote type="cite">old</blockquote>',
  '<p>unclosed <a href="x',
  '<!-- only a comment -->',
]

const CHARSETS = [
  'utf-8',
  'UTF-8',
  'iso-8859-1',
  'latin1',
  'windows-1252',
  'us-ascii',
  'iso-8859-15',
  'utf-7',
  'shift_jis',
  'utf-16',
  'x-unknown-charset',
  '"utf-8"',
  '',
]
const ENCODINGS = [
  '7bit',
  '8bit',
  'quoted-printable',
  'base64',
  'binary',
  'BASE64',
  'x-uuencode',
  '',
]
const TYPES = [
  'text/plain',
  'text/html',
  'text/plain; format=flowed; delsp=yes',
  'application/octet-stream',
  'message/delivery-status',
  'message/rfc822',
  'text/enriched',
  'image/png',
  '',
]

const headerValue = fc.oneof(
  fc.constantFrom(
    '=?utf-8?B?w6ljaMOpYW5jZQ==?=',
    '=?iso-8859-1?Q?R=E9union_=E0_8h?=',
    '=?utf-8?Q?broken',
    '=?x-unknown?B?!!!?=',
    'plain subject',
    '',
  ),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
)

const randomHeader = fc.oneof(
  fc.tuple(
    fc.constantFrom(
      'Subject',
      'From',
      'To',
      'Cc',
      'Message-ID',
      'Date',
      'Auto-Submitted',
      'Precedence',
      'Content-Disposition',
      'X-Mailer',
      'Received',
    ),
    headerValue,
  ),
  fc.tuple(fc.stringMatching(/^[!-9;-~]{1,20}$/), headerValue),
)

interface Leaf {
  kind: 'leaf'
  type: string
  charset: string
  encoding: string
  content: string | Uint8Array
  encodeProperly: boolean
  headers: Array<[string, string]>
}

interface Multipart {
  kind: 'multipart'
  subtype: string
  boundary: string
  children: Node[]
  closed: boolean
  preamble: string
  headers: Array<[string, string]>
}

type Node = Leaf | Multipart

const leaf: fc.Arbitrary<Leaf> = fc.record({
  kind: fc.constant('leaf' as const),
  type: fc.constantFrom(...TYPES),
  charset: fc.constantFrom(...CHARSETS),
  encoding: fc.constantFrom(...ENCODINGS),
  content: fc.oneof(
    fc.constantFrom(...TEXTS, ...HTML),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }),
  ),
  encodeProperly: fc.boolean(),
  headers: fc.array(randomHeader, { maxLength: 2 }),
})

const { node } = fc.letrec<{ node: Node; multipart: Multipart }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('multipart')),
  multipart: fc.record({
    kind: fc.constant('multipart' as const),
    subtype: fc.constantFrom('mixed', 'alternative', 'related', 'report', 'digest', 'signed'),
    boundary: fc.oneof(
      fc.constantFrom('b1', '----=_Part_0_1', 'x', '=_=', 'a b', ''),
      fc.stringMatching(/^[0-9A-Za-z'()+_,./:=?-]{1,70}$/),
    ),
    children: fc.array(tie('node'), { maxLength: 4 }),
    closed: fc.boolean(),
    preamble: fc.constantFrom('', 'This is a multi-part message in MIME format.'),
    headers: fc.array(randomHeader, { maxLength: 2 }),
  }),
}))

function qp(bytes: Buffer): string {
  let out = ''
  let line = 0
  for (const byte of bytes) {
    const literal = (byte >= 33 && byte <= 126 && byte !== 61) || byte === 32
    const piece =
      byte === 10
        ? '\n'
        : literal
          ? String.fromCharCode(byte)
          : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`
    if (piece === '\n') line = 0
    else if (line + piece.length > 75) {
      out += '=\n'
      line = 0
    }
    out += piece
    if (piece !== '\n') line += piece.length
  }
  return out
}

function charsetBytes(content: string | Uint8Array, charset: string): Buffer {
  if (typeof content !== 'string') return Buffer.from(content)
  const latin = /8859-1|latin1|1252|us-ascii/i.test(charset)
  return Buffer.from(content, latin ? 'latin1' : 'utf8')
}

function renderLeafBody(part: Leaf): string | Buffer {
  const bytes = charsetBytes(part.content, part.charset)
  if (!part.encodeProperly) return bytes
  const encoding = part.encoding.toLowerCase()
  if (encoding === 'base64') return (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\n')
  if (encoding === 'quoted-printable') return qp(bytes)
  return bytes
}

function headerLines(headers: Array<[string, string]>): string[] {
  return headers.map(([name, value]) => `${name}: ${value}`)
}

function render(part: Node): Array<string | Buffer> {
  if (part.kind === 'leaf') {
    const lines = headerLines(part.headers)
    if (part.type) {
      lines.push(`Content-Type: ${part.type}${part.charset ? `; charset=${part.charset}` : ''}`)
    }
    if (part.encoding) lines.push(`Content-Transfer-Encoding: ${part.encoding}`)
    return [lines.join('\n'), '\n\n', renderLeafBody(part)]
  }
  const out: Array<string | Buffer> = [
    [
      ...headerLines(part.headers),
      `Content-Type: multipart/${part.subtype}; boundary="${part.boundary}"`,
    ].join('\n'),
    '\n\n',
    part.preamble,
  ]
  for (const child of part.children) out.push(`\n--${part.boundary}\n`, ...render(child))
  if (part.closed) out.push(`\n--${part.boundary}--\n`)
  return out
}

interface Message {
  top: Array<[string, string]>
  body: Node
  crlf: boolean
  cut: number | null
  noise: Uint8Array
}

const message: fc.Arbitrary<Message> = fc.record({
  top: fc.array(randomHeader, { maxLength: 6 }),
  body: node,
  crlf: fc.boolean(),
  // Cut short, as a dropped connection would leave it (Haraka would not pass that on, but the
  // parser must not care).
  cut: fc.option(fc.nat(), { freq: 8 }),
  noise: fc.uint8Array({ maxLength: 8 }),
})

function toBytes(msg: Message): Buffer {
  const top = headerLines(msg.top).join('\n')
  const pieces = [top ? `${top}\n` : '', 'MIME-Version: 1.0\n', ...render(msg.body)]
  let raw = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)))
  if (msg.crlf) raw = Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')
  if (msg.cut !== null) raw = raw.subarray(0, msg.cut % (raw.length + 1))
  if (msg.noise.length > 0) {
    const at = msg.noise[0] % (raw.length + 1)
    raw = Buffer.concat([raw.subarray(0, at), Buffer.from(msg.noise), raw.subarray(at)])
  }
  return raw
}

const account = fc.record({
  segmentCap: fc.integer({ min: 1, max: 10 }),
  signatureMarker: fc.option(fc.constantFrom('Jean Dupont', 'Cordialement', '--', 'Signature'), {
    nil: null,
  }),
  gsmOnly: fc.boolean(),
})

function recipientFor(settings: {
  segmentCap: number
  signatureMarker: string | null
  gsmOnly: boolean
}): PlannedRecipient {
  return testRecipient(
    testAccount({
      signatureMarker: settings.signatureMarker,
      segmentCap: settings.segmentCap,
      gsmOnly: settings.gsmOnly,
    }),
  )
}

const DOCUMENTED_DENIALS = new Set(['5.7.1', '5.6.0', '5.3.4'])

describe('fuzz: MIME to SMS, as the MX does it', () => {
  it('answers any message with a decision or a documented parse limit, within a deadline', async () => {
    await checkAsyncProperty(
      fc.asyncProperty(message, account, async (msg, settings) => {
        const raw = toBytes(msg)
        const read = await readMessage(raw)
        if ('decision' in read) {
          assert.equal(read.decision.action === 'deny' && read.decision.status, '5.6.0')
          assert.match(read.decision.message ?? '', /^[ -~]*$/)
          return
        }
        const recipients = [recipientFor(settings), recipientFor(settings)]
        const { decision, drafts } = await draftSms(read.mail, recipients)
        if (decision.action !== 'accept') {
          assert.equal(decision.action, 'deny')
          assert.ok(DOCUMENTED_DENIALS.has(decision.status), decision.status)
          // An SMTP reply without SMTPUTF8 must be ASCII.
          assert.match(decision.message, /^[ -~]*$/, show(decision.message))
          assert.equal(drafts.length, 0)
          return
        }
        assert.equal(drafts.length, recipients.length)
        for (const draft of drafts) {
          assert.notEqual(draft.text, '')
          assert.doesNotMatch(draft.text, /[\p{Cc}](?<!\n)/u, show(draft.text))
          assert.equal(normaliseWhitespace(mapTypography(draft.text)), draft.text)
          // Staying in GSM names what keeps the text UCS-2, not the first non-GSM character.
          const { nonGsmCharacter, ...counts } = draft.analysis
          const { nonGsmCharacter: first, ...expected } = analyseSms(draft.text)
          assert.deepEqual(counts, expected)
          assert.equal(nonGsmCharacter === null, first === null)
          if (nonGsmCharacter) assert.ok(draft.text.includes(nonGsmCharacter))
          if (settings.gsmOnly) assert.equal(foldToGsm7(draft.text).text, draft.text)
          assert.ok(draft.analysis.segments <= settings.segmentCap)
        }
      }),
      75,
      { timeout: CASE_TIMEOUT_MS },
    )
  })

  it('reads simple plain-text mail on the fast path exactly as mailparser does', async () => {
    const simple = fc.record({
      top: fc.array(randomHeader, { maxLength: 5 }),
      charset: fc.constantFrom('utf-8', 'UTF-8', '"us-ascii"', 'iso-8859-1', ''),
      encoding: fc.constantFrom('7bit', '8bit', ''),
      body: fc.oneof(fc.constantFrom(...TEXTS), fc.string({ unit: 'binary', maxLength: 300 })),
      crlf: fc.boolean(),
    })
    let compared = 0
    await checkAsyncProperty(
      fc.asyncProperty(simple, async (m) => {
        const lines = headerLines(m.top)
        lines.push(`Content-Type: text/plain${m.charset ? `; charset=${m.charset}` : ''}`)
        if (m.encoding) lines.push(`Content-Transfer-Encoding: ${m.encoding}`)
        let text = `${lines.join('\n')}\n\n${m.body}`
        if (m.crlf) text = text.replace(/\r?\n/g, '\r\n')
        const raw = Buffer.from(text, 'utf8')
        const fast = parsePlainTextEmail(raw)
        if (!fast) return
        compared++
        const full = await parseEmail(Readable.from([raw]))
        assert.deepEqual(await emailToSmsText(fast), await emailToSmsText(full), show(text))
        // What the MX reads besides the text: the retry identity (Message-ID, or Date, Subject
        // and text) and the automatic-mail headers.
        assert.deepEqual(
          retryIdentity(fast, 'alice@example.com', 'txn'),
          retryIdentity(full, 'alice@example.com', 'txn'),
          show(text),
        )
        assert.equal(detectAutomaticMail(fast), detectAutomaticMail(full), show(text))
      }),
      75,
      { timeout: CASE_TIMEOUT_MS },
    )
    assert.ok(compared > 0, 'no message took the fast path')
  })

  it('stops a message with more parts than the parser allows with a 5.6.0, not a hang', async () => {
    const parts = Array.from(
      { length: 1200 },
      (_, i) => `--b\nContent-Type: text/plain\n\npart ${i}\n`,
    )
    const raw = Buffer.from(`Content-Type: multipart/mixed; boundary=b\n\n${parts.join('')}--b--\n`)
    await assert.rejects(parseEmail(raw), UnreadableMessageError)
    const read = await readMessage(raw)
    assert.ok('decision' in read)
    assert.match(read.decision.message ?? '', /more than 1000 MIME parts/)
  })
})
