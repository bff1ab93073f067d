import fs from 'node:fs'
import path from 'node:path'
import { simpleParser } from 'mailparser'
import { parseEmail } from '../../lib/mail/parse'
import { REPLIES } from '../../lib/mx/replies'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { SmtpSession, type SmtpReply } from '../support/smtp-client'
import { corporaDir as sharedCorporaDir, requireCorpus } from './corpora'
import { seedSendingAccount } from '../support/accounts'

/*
 * The real-world messages of the shared mime/ corpus, each sent through a real MX (Haraka with
 * the project's plugins, over SMTP), then held to the corpus README's property: refused with
 * the reply its kind calls for, or queued as an SMS whose text is only the author's words.
 * The messages have no expected SMS; the checks below say what must never be in one.
 */

export interface MimeViolation {
  file: string
  property: string
  excerpt: string
}

export interface MimeFolderReport {
  folder: string
  tried: number
  accepted: number
  /** Refusals by reply name (automaticMail, noText, tooLong…, or `<code> <status>`). */
  refused: Record<string, number>
}

export interface MimeCorpusReport {
  corporaDir: string
  tried: number
  accepted: number
  refused: Record<string, number>
  /** The segment cap of the corpus account: over it a message is refused as tooLong. */
  segmentCap: number
  folders: MimeFolderReport[]
  violations: MimeViolation[]
}

const SEGMENT_CAP = 20
const RECIPIENT = `+33612345678@${SMS_DOMAIN}`
const REFUSALS_THAT_HOLD = new Set(['automaticMail', 'noText', 'tooLong'])

// --- what an SMS must not contain -----------------------------------------------------------

const HTML_TAG =
  /<\/?(?:html|head|body|meta|style|script|div|span|p|br|hr|b|i|u|em|strong|font|a|img|table|tbody|tr|td|th|ul|ol|li|h[1-6]|center|blockquote|pre|o:p)(?:\s[^<>]*)?\/?>/i
const HTML_ENTITY = /&(?:[a-z][a-z0-9]{1,31}|#\d{1,7}|#x[0-9a-f]{1,6});/i
const UUENCODED = /^begin [0-7]{3,4} \S|^M[\x20-\x60]{60}$/m
// Base64 as MIME writes it (letters of both cases and digits), or a long run of hex.
const BASE64_WORD =
  /(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*\d)[A-Za-z0-9+/]{60,}/
const HEX_WORD = /[0-9a-f]{76,}/i
// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/
// ">>> VIDEO <<<" or ">>> https://… <<<" is a banner of the author's, not a quote.
const QUOTED_LINE = /^[^\S\n]*>(?![^\n]*<<[^\S\n]*$)/m
// Reply headers of common clients, in the languages the corpus has.
const REPLY_HEADER = [
  /\bOn\b[^\n]{0,200}\bwrote:/i,
  /^-{2,} ?Original Message ?-{2,}$/im,
  /\ba écrit ?:/i,
  /\bschrieb[^\n]{0,80}:/i,
  /написал\s*:/i,
  // A quoted message's header block; in a forward, below its "Forwarded message" line, it
  // introduces what the author chose to send.
  /^(?<!(?:Forwarded message|Begin forwarded message|Message transféré)[^\n]*\n)From: [^\n]+\n(?:[^\n]*\n){0,3}(?:Sent|Date): /im,
]
// Footers that clients, carriers and list servers add.
const FOOTERS = [
  /^Sent from my (?:iPhone|iPad|BlackBerry|Android|Samsung|Windows Phone|mobile)/im,
  /^Sent (?:from|with) (?:Outlook|Yahoo Mail|Mail for Windows|Sparrow|Proton ?Mail|Gmail)/im,
  /^Get Outlook for (?:iOS|Android)/im,
  /^(?:Envoyé de mon|Von meinem \S+ gesendet)/im,
  /^Sent via .{1,40}(?:Text Messaging|SMS) service/im,
  /You received this message because you are subscribed to/i,
  /^To unsubscribe from this group/im,
  /mailing list\s*\n\s*\S+@\S+\s*\n\s*https?:\/\/\S+\/listinfo/i,
  /^Do You Yahoo!\?/im,
  /This (?:e-?mail|message) has been scanned/i,
]
// What says a message is automatic, read from the raw header block: an oracle of its own,
// not the MX's code, so that both a wrong refusal and a missed one show.
const AUTOMATIC_MARKS = [
  /^Auto-Submitted:\s*(?!no\b)\S/im,
  /^Precedence:\s*(?:bulk|junk|list|auto_reply)\b/im,
  /^Content-Type:\s*multipart\/report\b/im,
  /^Content-Class:\s*urn:content-classes:(?:mdn|dsn)\b/im,
  /^X-Autore(?:ply|spond):\s*(?!no\b|false\b|0\b)/im,
]

function excerptAround(text: string, at: number): string {
  return JSON.stringify(text.slice(Math.max(0, at - 30), at + 50))
}

function find(text: string, pattern: RegExp): string | null {
  const match = pattern.exec(text)
  return match ? excerptAround(text, match.index) : null
}

function headerBlock(raw: Buffer): string {
  const text = raw.toString('latin1')
  const end = text.search(/\r?\n\r?\n/)
  return (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ')
}

function isAutomatic(raw: Buffer): boolean {
  const head = headerBlock(raw)
  return (
    AUTOMATIC_MARKS.some((mark) => mark.test(head)) ||
    /^Content-Type:\s*message\/disposition-notification/im.test(raw.toString('latin1'))
  )
}

/** U+FFFD the parser produced although the message does not contain one itself. */
function lostCharacters(raw: Buffer, decoded: string): string | null {
  const at = decoded.indexOf('\uFFFD')
  if (at === -1) return null
  const literal = raw.includes(Buffer.from('\uFFFD')) || /=EF=BF=BD/i.test(raw.toString('latin1'))
  return literal ? null : excerptAround(decoded, at)
}

async function checkText(file: string, raw: Buffer, body: string): Promise<MimeViolation[]> {
  const found: MimeViolation[] = []
  const flag = (property: string, excerpt: string | null): void => {
    if (excerpt !== null) found.push({ file, property, excerpt })
  }
  flag('html tag', find(body, HTML_TAG))
  flag('html entity', find(body, HTML_ENTITY))
  flag('uuencoded data', find(body, UUENCODED))
  flag('base64 data', find(body, BASE64_WORD) ?? find(body, HEX_WORD))
  flag('control character', find(body, CONTROL))
  flag('U+FFFD', find(body, /\uFFFD/))
  flag('quoted line', find(body, QUOTED_LINE))
  for (const header of REPLY_HEADER) flag('quoted reply header', find(body, header))
  for (const footer of FOOTERS) flag('footer', find(body, footer))
  // An independent parse for the attachment names: the MX's own parse is what is under test.
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true })
  // A name alone on its line or in a placeholder's brackets; a sentence may name a file.
  for (const name of parsed.attachments.map((a) => (a.filename ?? '').trim())) {
    if (name.length < 3) continue
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    flag(
      'attachment name',
      find(
        body,
        new RegExp(`^\\s*${escaped}\\s*$|<<?\\s*${escaped}\\s*>|\\[[^\\]]*${escaped}\\s*\\]`, 'm'),
      ),
    )
  }
  return found
}

/** Decoding, looked at before the text step (which drops U+FFFD) could hide a loss. */
async function checkDecoding(file: string, raw: Buffer): Promise<MimeViolation[]> {
  try {
    const mail = await parseEmail(raw)
    const decoded = [mail.subject ?? '', mail.text ?? '', mail.html || ''].join('\n')
    const lost = lostCharacters(raw, decoded)
    return lost
      ? [{ file, property: 'U+FFFD where the bytes could be decoded', excerpt: lost }]
      : []
  } catch {
    return [] // what the MX answered for an unreadable message is judged from its reply
  }
}

// --- the replies ----------------------------------------------------------------------------

/** The catalogue name of a refusal, told apart by code, status and the start of the text. */
function replyName(reply: SmtpReply): string {
  for (const [name, spec] of Object.entries(REPLIES)) {
    const sample = (spec.text as (p: unknown) => string)(spec.example)
    // The first plain words ("the text needs", "automatic mail"): never a parameter.
    const words = sample.split(' ')
    const plain = words.findIndex((w) => !/^[a-z]+$/i.test(w))
    const lead = words.slice(0, Math.min(3, plain === -1 ? words.length : plain)).join(' ')
    if (lead === '') continue
    if (spec.code === reply.code && reply.text.startsWith(spec.status) && reply.text.includes(lead))
      return name
  }
  return `${reply.code} ${reply.text.split(' ')[0]}`
}

// --- running --------------------------------------------------------------------------------

function messageFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name)
      return entry.isDirectory() ? messageFiles(full) : entry.isFile() ? [full] : []
    })
    .sort()
}

async function send(port: number, sender: string, raw: Buffer): Promise<SmtpReply> {
  const session = await SmtpSession.open(port)
  try {
    await session.ehlo()
    const mail = await session.command(`MAIL FROM:<${sender}>`)
    if (mail.code !== 250) return mail
    const rcpt = await session.command(`RCPT TO:<${RECIPIENT}>`)
    if (rcpt.code !== 250) return rcpt
    return await session.dataBytes(raw)
  } finally {
    await session.quit()
  }
}

interface Setup {
  t: TestDatabase
  mx: RunningMx
}

/** One account, one accepted sender per message (so no message is a retry of another). */
async function setUp(count: number): Promise<Setup> {
  const t = await createTestDatabase('sqlite')
  try {
    const senders = Array.from({ length: count }, (_, i) => `m${i}@corpus.example`)
    await seedSendingAccount(
      t.db,
      { ref: 'corpus', name: 'Corpus', segmentCap: SEGMENT_CAP },
      senders,
    )
    // Rate and repeat limits off: the corpus holds the same text more than once, on purpose.
    const limits = { account_sms_per_minute: 0, sender_sms_per_minute: 0, loop_max_repeats: 0 }
    return { t, mx: await startMx({ database: t.config, limits }) }
  } catch (err) {
    await t.drop()
    throw err
  }
}

export async function runMimeCorpus(
  corporaDir: string = sharedCorporaDir(),
): Promise<MimeCorpusReport> {
  const root = path.join(corporaDir, 'mime')
  requireCorpus(root)
  const files = messageFiles(root)
  const report: MimeCorpusReport = {
    corporaDir,
    tried: 0,
    accepted: 0,
    refused: {},
    segmentCap: SEGMENT_CAP,
    folders: [],
    violations: [],
  }
  const folders = new Map<string, MimeFolderReport>()
  const { t, mx } = await setUp(files.length)
  try {
    for (const [i, full] of files.entries()) {
      const file = path.relative(root, full)
      const folderName = path.dirname(file) === '.' ? '(top)' : path.dirname(file)
      let folder = folders.get(folderName)
      if (!folder) {
        folder = { folder: folderName, tried: 0, accepted: 0, refused: {} }
        folders.set(folderName, folder)
      }
      const raw = fs.readFileSync(full)
      const sender = `m${i}@corpus.example`
      const reply = await send(mx.port, sender, raw)
      report.tried++
      folder.tried++
      report.violations.push(...(await checkDecoding(file, raw)))
      const automatic = isAutomatic(raw)
      if (reply.code === 250) {
        report.accepted++
        folder.accepted++
        if (automatic)
          report.violations.push({ file, property: 'automatic mail accepted', excerpt: '' })
        const rows = await t.db('outbound_sms').where({ sender_email: sender })
        if (rows.length !== 1)
          report.violations.push({ file, property: `${rows.length} SMS rows`, excerpt: reply.text })
        for (const row of rows)
          report.violations.push(...(await checkText(file, raw, String(row.body))))
        continue
      }
      const name = replyName(reply)
      report.refused[name] = (report.refused[name] ?? 0) + 1
      folder.refused[name] = (folder.refused[name] ?? 0) + 1
      if (!REFUSALS_THAT_HOLD.has(name))
        report.violations.push({ file, property: `refused: ${name}`, excerpt: reply.text })
      else if (name === 'automaticMail' && !automatic)
        report.violations.push({ file, property: 'refused as automatic', excerpt: reply.text })
    }
  } finally {
    await mx.stop()
    await t.drop()
  }
  report.folders = [...folders.values()]
  return report
}
