import fs from 'node:fs'
import path from 'node:path'
import { parseEmail } from '../lib/mail/parse'
import { emailToSmsText } from '../lib/text/sms-text'
import { parseBenchOptions } from './options'
import { corporaDir } from '../test/corpus/corpora'

/**
 * `npm run bench:text`: the cost of the text step (quotes, signature, footers, clutter,
 * typography) per message, beside the cost of reading the MIME alone, measured in the same
 * run on the same messages. The MX pays both at the end of DATA; `bench:mx --stages` shows
 * them inside the whole SMTP exchange, where they are a small part and hard to see.
 */

const USAGE = `usage: npm run bench:text -- [options]
  --messages N   messages per measured run of each shape (20000)
  --rounds N     measured runs per shape, the median is printed (3)`

interface Shape {
  name: string
  raw: Buffer
}

function message(headers: string, body: string): Buffer {
  return Buffer.from(
    `${headers.trim().replace(/\n/g, '\r\n')}\r\n\r\n${body.replace(/\n/g, '\r\n')}`,
  )
}

const COMMON =
  'From: Jean <jean@example.fr>\nTo: 0612345678@sms.example.test\nSubject: Re: Livraison'

function shapes(): Shape[] {
  const list: Shape[] = [
    {
      name: 'app alert, plain ASCII',
      raw: message(
        'From: alerts@example.com\nSubject: disk\nMessage-ID: <1@example.com>',
        'srv1: disk /var at 91%, check the backups job before 18:00.\n',
      ),
    },
    {
      name: 'French reply: quote + signature',
      raw: message(
        `${COMMON}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit`,
        'Oui, 9h au dépôt nord.\n\nCordialement,\nJean Dupont\nTél. 06 12 34 56 78\n\n' +
          'Le lun. 3 mars 2025 à 10:12, Paul <paul@example.fr> a écrit :\n> Tu viens demain ?\n> Merci\n',
      ),
    },
    {
      name: 'Outlook reply: HTML + text, history',
      raw: message(
        `${COMMON}\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b"`,
        '--b\nContent-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: quoted-printable\n\n' +
          'C=92est not=E9.\n\nSophie\n\n________________________________\nDe : Paul\nEnvoy=E9 : lundi 3 mars 2025 10:12\n' +
          '=C0 : Sophie\nObjet : Livraison\n\nAncien message\n' +
          '--b\nContent-Type: text/html; charset=windows-1252\n\n' +
          '<html><body><p>C\'est not&eacute;.</p><p>Sophie</p><div id="divRplyFwdMsg"><b>De :</b> Paul</div>' +
          '<p>Ancien message</p></body></html>\n--b--\n',
      ),
    },
  ]
  const dir = path.join(corporaDir(), 'mime', 'talon-replies')
  for (const file of fs.existsSync(dir) ? ['gmail.eml', 'outlook.eml', 'apple_mail.eml'] : []) {
    const full = path.join(dir, file)
    if (fs.existsSync(full)) list.push({ name: `corpus ${file}`, raw: fs.readFileSync(full) })
  }
  return list
}

async function microsPerMessage(raw: Buffer, n: number, withText: boolean): Promise<number> {
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const mail = await parseEmail(raw)
    if (withText) await emailToSmsText(mail)
  }
  return Number(process.hrtime.bigint() - started) / 1000 / n
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function main(): Promise<void> {
  const s = { messages: 20000, rounds: 3 }
  parseBenchOptions(
    process.argv.slice(2),
    USAGE,
    { '--messages': (v) => (s.messages = v), '--rounds': (v) => (s.rounds = v) },
    {},
  )
  console.log('shape'.padEnd(40), 'MIME alone', '  MIME+text', '  text step', '  ratio')
  for (const shape of shapes()) {
    await microsPerMessage(shape.raw, Math.ceil(s.messages / 10), true)
    const parse: number[] = []
    const whole: number[] = []
    // Interleaved, so that the machine's noise falls on both alike.
    for (let r = 0; r < s.rounds; r++) {
      parse.push(await microsPerMessage(shape.raw, s.messages, false))
      whole.push(await microsPerMessage(shape.raw, s.messages, true))
    }
    const p = median(parse)
    const w = median(whole)
    console.log(
      shape.name.padEnd(40),
      `${p.toFixed(1)} µs`.padStart(10),
      `${w.toFixed(1)} µs`.padStart(11),
      `${(w - p).toFixed(1)} µs`.padStart(11),
      `${(w / p).toFixed(2)}`.padStart(7),
    )
  }
  console.log('ratio: MIME+text over MIME alone, per message (1.00 = the text step is free)')
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
