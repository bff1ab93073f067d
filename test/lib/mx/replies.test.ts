import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { REPLIES, answer, formatReply, type ReplyName } from '../../../lib/mx/replies'
import { formattedReplyTable, readmeReplyTable } from '../../support/reply-table'

const README = path.resolve(__dirname, '..', '..', '..', 'README.md')

describe('the SMTP reply catalogue', () => {
  it("is the README's reply table, row for row (npm run docs:replies rewrites it)", async () => {
    const inReadme = readmeReplyTable(fs.readFileSync(README, 'utf8'))
    assert.ok(inReadme, 'README has no reply-catalogue markers')
    assert.equal(inReadme, await formattedReplyTable(README))
  })

  it('gives every reply a code and an enhanced status of the same class', () => {
    for (const [name, r] of Object.entries(REPLIES)) {
      assert.match(r.status, /^[245]\.\d{1,3}\.\d{1,3}$/, name)
      assert.equal(r.status[0], String(r.code)[0], `${name}: ${r.code} ${r.status}`)
    }
  })

  it('writes only ASCII, as a reply without SMTPUTF8 must', () => {
    for (const name of Object.keys(REPLIES) as ReplyName[]) {
      const text = formatReply(name, REPLIES[name].example as never)
      assert.match(text, /^[\x20-\x7e]+$/, name)
    }
  })

  it('makes 5xx a denial, 4xx a deferral and 2xx an acceptance, named by reason', () => {
    assert.deepEqual(answer('optedOut', { e164: '+33612345678', keyword: 'STOP' }), {
      action: 'deny',
      code: 550,
      status: '5.7.1',
      message:
        '+33612345678 has opted out of SMS from this account (they texted STOP); they can text START to opt back in',
      reason: 'optedOut',
    })
    assert.equal(answer('tooManyRecipients', { max: 3 }).action, 'defer')
    assert.deepEqual(answer('queued', { what: 'SMS 4', duplicate: true }), {
      action: 'accept',
      message: 'already queued as SMS 4',
      reason: 'queued',
    })
  })
})
