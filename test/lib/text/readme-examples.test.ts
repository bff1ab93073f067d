import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { parseEmail } from '../../../lib/mail/parse'
import { emailToSmsText } from '../../../lib/text/sms-text'

/**
 * The README's table "the email says / the SMS says" is a promise to mail admins: each row is
 * sent through the text step as a real message and must give what the table says.
 */

function readmeRows(): Array<{ email: string; sms: string }> {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8')
  const start = readme.indexOf('| the email says')
  assert.ok(start !== -1, 'the README has no example table')
  const rows = readme.slice(start).split('\n')
  const table = rows.slice(
    2,
    rows.findIndex((line, i) => i > 0 && !line.startsWith('|')),
  )
  return table.map((row) => {
    const [email, sms] = row
      .split('|')
      .slice(1, 3)
      .map((cell) => cell.trim())
    return { email: lines(email), sms: lines(sms) }
  })
}

/** "`a` / _blank_ / `b`" → "a\n\nb". */
function lines(cell: string): string {
  return cell
    .split(' / ')
    .map((part) => (part === '_blank_' ? '' : part.replace(/^`(.*)`$/, '$1')))
    .join('\n')
}

describe('README: what the gateway removes from an email', () => {
  const rows = readmeRows()

  it('has examples', () => {
    assert.ok(rows.length >= 5, `${rows.length} rows`)
  })

  for (const { email, sms } of rows) {
    it(`gives "${sms.split('\n')[0]}…" for "${email.split('\n')[0]}…"`, async () => {
      const raw = `From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${email.replace(/\n/g, '\r\n')}\r\n`
      const mail = await parseEmail(Buffer.from(raw))
      assert.equal((await emailToSmsText(mail)).text, sms)
    })
  }
})
