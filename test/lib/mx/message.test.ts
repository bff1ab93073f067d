import crypto from 'node:crypto'
import assert from 'node:assert/strict'
import type { ParsedMail } from 'mailparser'
import { parseEmail } from '../../../lib/mail/parse'
import { legacyDedupeKeyFor } from '../../../lib/db/outbound'
import { draftSms, retryIdentity, toOutboundRows } from '../../../lib/mx/message'
import { testAccount, testRecipient } from '../../support/accounts'
import { FRENCH_150, FRENCH_150_IN_GSM } from '../../support/sms-texts'

const account = testAccount()
const recipient = testRecipient(account)

function mailWith(headers: Record<string, string>): ParsedMail {
  return {
    attachments: [],
    headers: new Map(Object.entries(headers)),
    headerLines: [],
    text: 'Hello',
  }
}

describe('lib/mx/message draftSms', () => {
  it('quotes an automatic-mail header in the reply as printable ASCII only', async () => {
    const { decision } = await draftSms(
      mailWith({ 'auto-submitted': 'auto-replied\r\n250 ok \u0000 réponse' }),
      [recipient],
    )
    assert.equal(decision.action, 'deny')
    assert.ok(decision.action === 'deny')
    assert.equal(decision.status, '5.7.1')
    assert.match(decision.message, /^[ -~]+$/)
    assert.match(decision.message, /\(Auto-Submitted: auto-replied\?\?250 ok \? r\?ponse\)/)
  })

  it('keys a retry of a mail with an unreadable Date alike, though mailparser reads it as now', async () => {
    // Quoted-printable keeps it off the plain-text fast path, so mailparser reads it.
    const raw = Buffer.from(
      'From: alice@example.com\r\nDate: someday\r\nSubject: x\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nR=C3=A9union\r\n',
    )
    const mail = await parseEmail(raw)
    const expected = crypto
      .createHash('sha256')
      .update('alice@example.com\0someday\0x\0')
      .update(mail.text ?? '')
      .digest('hex')
    assert.deepEqual(retryIdentity(mail, 'alice@example.com', 't1'), {
      messageId: null,
      source: `digest:${expected}`,
      // Nor is the key's time prefix taken from it: the email counts as undated.
      writtenAt: null,
      retriable: true,
    })
  })

  it('keys each SMS on the minute of its Date header, with the legacy key beside it', async () => {
    const raw = (headers: string) =>
      Buffer.from(`From: alice@example.com\r\n${headers}Subject: x\r\n\r\nDisk full\r\n`)
    const draft = (await draftSms(await parseEmail(raw('')), [recipient])).drafts[0]
    const rowOf = async (headers: string, txn: string) =>
      toOutboundRows([draft], await parseEmail(raw(headers)), 'alice@example.com', txn)[0]
    const dated = 'Date: Sun, 6 Dec 2026 15:05:09 +0100\r\nMessage-ID: <1@example.com>\r\n'
    const row = await rowOf(dated, 't1')
    const minute = Math.floor(Date.parse('2026-12-06T14:05:09Z') / 60_000)
    assert.equal(row.dedupeKey.slice(0, 8), minute.toString(16).padStart(8, '0'))
    const source = 'mid:alice@example.com:<1@example.com>'
    assert.equal(row.legacyDedupeKey, legacyDedupeKeyFor(source, recipient.e164))
    // A retry, on another attempt: the same keys.
    assert.deepEqual(
      [(await rowOf(dated, 't2')).dedupeKey, (await rowOf(dated, 't2')).legacyDedupeKey],
      [row.dedupeKey, row.legacyDedupeKey],
    )
    // No Message-ID nor Date: no retry to find, keyed on its transaction, no legacy key.
    const loose = await rowOf('', 't3')
    assert.equal(loose.dedupeKey.slice(0, 8), '00000000')
    assert.equal(loose.legacyDedupeKey, undefined)
  })

  it('folds the text of an account that stays in GSM before counting it against the cap', async () => {
    const raw = (body: string) =>
      Buffer.from(
        `From: alice@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
      )
    const mail = await parseEmail(raw(FRENCH_150))
    const gsm = testRecipient(testAccount({ id: 2, ref: 'gsm', gsmOnly: true, segmentCap: 1 }))
    const written = testRecipient(testAccount({ id: 3, ref: 'written', segmentCap: 3 }))
    const { decision, drafts } = await draftSms(mail, [gsm, written])
    assert.equal(decision.action, 'accept')
    assert.equal(drafts[0].text, FRENCH_150_IN_GSM)
    assert.equal(drafts[0].analysis.encoding, 'gsm7')
    assert.equal(drafts[0].analysis.segments, 1)
    assert.equal(drafts[1].text, FRENCH_150)
    assert.equal(drafts[1].analysis.encoding, 'ucs2')
    assert.equal(drafts[1].analysis.segments, 3)

    const refused = await draftSms(await parseEmail(raw(`${FRENCH_150} 👍`)), [gsm])
    assert.ok(refused.decision.action === 'deny')
    assert.equal(refused.decision.status, '5.3.4')
    assert.match(refused.decision.message, /U\+1F44D forces UCS-2/)
  })
})
