import crypto from 'node:crypto'
import assert from 'node:assert/strict'
import type { ParsedMail } from 'mailparser'
import { parseEmail } from '../../../lib/mail/parse'
import { draftSms, retryIdentity } from '../../../lib/mx/message'
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
    })
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
