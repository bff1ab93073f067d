import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { ParsedMail } from 'mailparser'
import { unifyLineBreaks } from '../../../lib/text/normalise'
import {
  cutAtSignature,
  decodeEntities,
  emailToSmsText,
  htmlToPlainText,
  mapTypography,
  normaliseWhitespace,
  plainTextToSmsText,
  stripQuotedReply,
} from '../../../lib/text'
import { checkAsyncProperty, checkProperty, show } from '../../support/fuzz'

// Pieces of real mail text: what the reply, signature and typography steps look for, so
// random texts hit their rules far more often than random characters would.
const MAIL_PIECES = [
  'Bonjour,',
  'Hi Paul,',
  '> quoted line',
  '>> deeper quote',
  'On Mon, 3 Mar 2025 at 09:14, Alice <alice@example.com> wrote:',
  'Le lun. 3 mars 2025 à 09:14, Alice a écrit :',
  '-----Original Message-----',
  '---------- Forwarded message ---------',
  'From: Alice Martin',
  'De : Alice',
  'Sent: Monday',
  'Envoyé : lundi',
  'To: Paul',
  'Objet : RDV',
  '-- ',
  '--',
  '__________',
  'Sent from my iPhone',
  'Envoyé de mon iPhone',
  'Get Outlook for iOS',
  'Cordialement,',
  'Thanks!',
  'Bien à vous,',
  'Jean Dupont',
  '-Jean',
  '- item',
  '---',
  'PS : ',
  '06 12 34 56 78',
  'jean@example.com',
  'www.example.com',
  'via mobile',
  'riak-users mailing list',
  'Drôle de journée',
  '« Bonjour »',
  'l’équipe',
  '“quoted”',
  'A – B — C…',
  '• item',
  'e\u0301te\u0301',
  '\u00a0\u202f\u2009',
  '\u200b\u00ad\ufeff',
  '👨‍👩‍👧',
  'a\u200db',
  '\u200d\u200c\u200d',
  '\u00ad\u0301',
  '\u212a\u037e\u1fef',
  '\u0301',
  '\uE000',
  '\uE0001\uE001',
]

const CONTROLS = ['\u0000', '\u0001', '\u0007', '\u001b', '\u001f', '\u007f', '\u0085', '\u009f']
const BREAKS = ['\n', '\r\n', '\r', '\n\n', '\n\n\n', '\u2028', '\u2029', '\v', '\f', '\t', '  ']

const textPiece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...MAIL_PIECES) },
  { weight: 4, arbitrary: fc.constantFrom(...BREAKS) },
  { weight: 1, arbitrary: fc.constantFrom(...CONTROLS) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
)

const mailText = fc.oneof(
  fc.array(textPiece, { maxLength: 40 }).map((pieces) => pieces.join('')),
  fc.string({ unit: 'binary', maxLength: 200 }),
)

const HTML_PIECES = [
  '<p>',
  '</p>',
  '<br>',
  '<br/>',
  '<div>',
  '</div>',
  '<div class="gmail_quote">',
  '<blockquote type="cite">',
  '</blockquote>',
  '<div id="divRplyFwdMsg">',
  '<p class="MsoNormal">',
  '<p style="margin:0">',
  '<pre>',
  '</pre>',
  '<ul><li>',
  '</li></ul>',
  '<td>',
  '</td>',
  '<style>p{}</style>',
  '<script>x<y</script>',
  '<head><title>t</title>',
  '<head>',
  '<!-- c -->',
  '<!--',
  '<![if !mso]>',
  '<?xml?>',
  '<a href="x">',
  "<a title='>'>",
  '<a title="',
  '<',
  '>',
  '&amp;',
  '&nbsp;',
  '&#233;',
  '&#x1F600;',
  '&#0;',
  '&#xD800;',
  '&#99999999;',
  '&unknown;',
  '&copy=2',
  '&euro;',
  '&hellip;',
]

const htmlText = fc.oneof(
  fc
    .array(fc.oneof(fc.constantFrom(...HTML_PIECES), textPiece), { maxLength: 50 })
    .map((pieces) => pieces.join('')),
  fc.string({ unit: 'binary', maxLength: 200 }),
)

const marker = fc.option(
  fc.oneof(fc.constantFrom('Jean Dupont', 'Cordialement', 'Dr', '--', ' ', ''), mailText),
  { nil: null },
)

// Control characters have no place in an SMS: the only one the text may keep is the line feed.
const CONTROL_BUT_NEWLINE = /[\p{Cc}](?<!\n)/u

function assertTidy(text: string): void {
  assert.equal(CONTROL_BUT_NEWLINE.exec(text), null, `control character in ${show(text)}`)
  assert.equal(normaliseWhitespace(text), text, 'whitespace left to normalise')
  assert.equal(mapTypography(text), text, 'typography left to map')
}

function parsedMail(text: string | undefined, html: string | undefined, subject?: string) {
  const mail: ParsedMail = { attachments: [], headers: new Map(), headerLines: [] }
  if (text !== undefined) mail.text = text
  if (html !== undefined) mail.html = html
  if (subject !== undefined) mail.subject = subject
  return mail
}

describe('fuzz: lib/text', () => {
  it('normalises whitespace once and for all', () => {
    checkProperty(
      fc.property(mailText, (text) => {
        const once = normaliseWhitespace(text)
        assert.equal(normaliseWhitespace(once), once)
        assert.doesNotMatch(
          once,
          /[\r\v\f\u2028\u2029]|[^\S\n]{2}|\n{3}|^\s|\s$|[^\S\n]\n|\n[^\S\n]/,
        )
      }),
      200,
    )
  })

  it('maps typography once and for all', () => {
    checkProperty(
      fc.property(mailText, (text) => {
        const once = mapTypography(text)
        assert.equal(mapTypography(once), once)
        assert.doesNotMatch(once, /[\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u00ab\u00bb]/)
      }),
      200,
    )
  })

  it('leaves nothing for a second tidying pass', () => {
    checkProperty(
      fc.property(mailText, (text) => {
        const once = normaliseWhitespace(mapTypography(text))
        assert.equal(normaliseWhitespace(mapTypography(once)), once)
      }),
      200,
    )
  })

  it('cuts at the signature once and for all, keeping lines of the text in order', () => {
    checkProperty(
      // Lines are split at CRLF or LF; a bare CR is left for whitespace normalisation, and
      // "\r\r\n" would read as a different line break on a second pass.
      fc.property(mailText, marker, (raw, signature) => {
        const text = raw.replace(/\r(?!\n)/g, '')
        const once = cutAtSignature(text, signature)
        assert.equal(cutAtSignature(once, signature), once)
        // A prefix of the lines, or (when a P.S. follows the signature) a prefix and the P.S.
        const input = text.replace(/\r\n/g, '\n').split('\n')
        let at = 0
        for (const line of once.split('\n').filter((l) => l.trim() !== '')) {
          while (at < input.length && input[at] !== line) at++
          assert.ok(at < input.length, `${show(line)} is not a line of the text, in order`)
          at++
        }
      }),
      200,
    )
  })

  it('decodes entities without throwing, keeping unknown ones as written', () => {
    checkProperty(
      fc.property(htmlText, (html) => {
        const decoded = decodeEntities(html)
        if (!html.includes('&')) assert.equal(decoded, html)
      }),
      150,
    )
  })

  it('turns any HTML into normalised text without markup-only characters', () => {
    checkProperty(
      fc.property(htmlText, (html) => {
        const text = htmlToPlainText(html)
        assert.equal(normaliseWhitespace(text), text)
      }),
      200,
    )
  })

  it('strips quoted replies from any text without throwing and keeps no quoted line', async () => {
    await checkAsyncProperty(
      fc.asyncProperty(mailText, async (text) => {
        const reply = await stripQuotedReply(text)
        for (const line of reply.split('\n')) {
          // Whatever space indents it, a line whose first mark is `>` is a quote.
          assert.doesNotMatch(line, /^\s*>/, `quoted line kept from ${show(text)}`)
        }
      }),
      150,
    )
  })

  it('gives SMS text that is tidy and no longer than the tidied input', async () => {
    await checkAsyncProperty(
      fc.asyncProperty(mailText, marker, async (text, signature) => {
        const sms = await plainTextToSmsText(text, { signatureMarker: signature })
        assertTidy(sms)
        // Every step only removes lines (or puts one blank line for a quote it removed), and
        // the reply step reads line breaks before typography drops control characters.
        const tidied = normaliseWhitespace(mapTypography(unifyLineBreaks(text)))
        assert.ok(sms.length <= tidied.length, `${show(sms)} grew from the input`)
      }),
      200,
    )
  })

  it('gives SMS text from any parsed mail, falling back to the subject', async () => {
    await checkAsyncProperty(
      fc.asyncProperty(
        fc.option(mailText, { nil: undefined }),
        fc.option(htmlText, { nil: undefined }),
        fc.option(mailText, { nil: undefined }),
        marker,
        async (text, html, subject, signature) => {
          const mail = parsedMail(text, html, subject)
          const sms = await emailToSmsText(mail, { signatureMarker: signature })
          assertTidy(sms.text)
          if (sms.source === 'subject') assert.notEqual(sms.text, '')
          if (sms.text === '') assert.notEqual(sms.source, 'subject')
        },
      ),
      300,
    )
  })
})
