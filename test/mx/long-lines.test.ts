import assert from 'node:assert/strict'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, sendMail } from '../support/smtp-client'
import { seedSendingAccount } from '../support/accounts'

/*
 * RFC 5321 § 4.5.3.1.6 sets 998 octets per line, and HTML mail often goes past it. Haraka
 * wraps DATA lines longer than connection.ini's data_line_length, inserting CRLF + space: a
 * word, a tag or a UTF-8 character at byte 992 would be cut in two. The MX keeps lines whole.
 */

const SENDER = 'alice@acme.example'

describe('MX: long DATA lines reach the SMS unaltered', function () {
  this.timeout(60_000)
  let t: TestDatabase
  let mx: RunningMx

  before(async () => {
    t = await createTestDatabase('sqlite')
    await seedSendingAccount(t.db, { ref: 'acme', name: 'Acme', segmentCap: 20 }, [SENDER])
    mx = await startMx({ database: t.config })
  })

  after(async () => {
    await mx?.stop()
    await t?.drop()
  })

  async function smsFor(number: string, message: string): Promise<string> {
    const r = await sendMail(mx.port, { from: SENDER, to: [`${number}@${SMS_DOMAIN}`], message })
    assert.equal(r.data?.code, 250, r.data?.text)
    const rows = await t.db('outbound_sms').where({ recipient: `+33${number.slice(1)}` })
    assert.equal(rows.length, 1)
    return String(rows[0].body)
  }

  it('takes a 5,000-byte line of HTML whole, the word and the tag at byte 992 included', async () => {
    const head = '<div style="font-family:Arial"><p>Please '
    const pad = `<span title="${'x'.repeat(988 - head.length - 22)}"></span>`
    const line = `${head}${pad}con<b>firm</b> now</p>`
    const html = line + `<span style="${'y'.repeat(5000 - line.length - 28)}"></span></div>`
    assert.equal(Buffer.byteLength(html), 5000)
    // Byte 992 of the line falls inside "confirm" and its <b> tag.
    assert.ok(html.indexOf('con<b>') < 992 && html.indexOf('</b>') > 992)
    const message = buildMessage({ from: SENDER, to: 'x', body: html }).replace(
      'Content-Type: text/plain; charset=utf-8',
      'Content-Type: text/html; charset=utf-8',
    )
    assert.equal(await smsFor('0611111111', message), 'Please confirm now')
  })

  it('keeps a multibyte character that straddles byte 992 of a line', async () => {
    const text = 'é'.repeat(700)
    assert.ok(Buffer.byteLength(text) > 992)
    const sms = await smsFor('0622222222', buildMessage({ from: SENDER, to: 'x', body: text }))
    assert.equal(sms, text)
  })
})
