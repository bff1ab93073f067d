import assert from 'node:assert/strict'
import {
  composeFailureNotice,
  deliveryStatusFields,
  DETAILS_FILENAME,
  type FailedSms,
} from '../../../lib/notices/failure-notice'
import { failureReason } from '../../../lib/notices/failure-reason'

const base: FailedSms = {
  id: 7,
  senderEmail: 'alice@acme.example',
  recipient: '+33612345678',
  body: 'Rendez-vous à 15h\nSalle 2',
  status: 'undeliverable',
  errorCode: null,
  lastError: 'receipt: undeliverable (error 001)',
  sourceMessageId: '<abc.123@client.example.net>',
  createdAt: Date.UTC(2026, 10, 27, 14, 5),
  finalAt: Date.UTC(2026, 10, 27, 14, 7),
}

const options = { smsDomain: 'sms.example.test' }

describe('lib/notices failure notice', () => {
  describe('failureReason', () => {
    it('says in plain words that a destination is invalid, from the SMPP status', () => {
      const r = failureReason({
        status: 'failed',
        errorCode: 0x0b,
        lastError: 'ESME_RINVDSTADR: x',
      })
      assert.match(r.fr, /numéro de destination invalide/)
      assert.match(r.en, /invalid or unknown destination number/)
      assert.equal(r.status, '5.1.1')
      assert.equal(r.diagnostic, 'ESME_RINVDSTADR (0x0000000b)')
    })

    it('tells a refused sender name from a barred service and from an unknown code', () => {
      assert.equal(
        failureReason({ status: 'failed', errorCode: 0x0a, lastError: null }).status,
        '5.1.7',
      )
      assert.match(
        failureReason({ status: 'failed', errorCode: 0x0101, lastError: null }).en,
        /does not allow/,
      )
      const unknown = failureReason({ status: 'failed', errorCode: 0x0400, lastError: null })
      assert.match(unknown.en, /refused by the carrier/)
      assert.equal(unknown.diagnostic, '0x00000400')
    })

    it('reads an undeliverable receipt and the two kinds of expiry', () => {
      const dlr = failureReason({
        status: 'undeliverable',
        errorCode: null,
        lastError: base.lastError,
      })
      assert.match(dlr.en, /could not receive/)
      assert.equal(dlr.diagnostic, 'receipt: undeliverable (error 001)')
      const late = failureReason({
        status: 'expired',
        errorCode: null,
        lastError: 'receipt: expired',
      })
      assert.match(late.en, /switched off/)
      assert.equal(late.status, '5.4.7')
      const unsent = failureReason({
        status: 'expired',
        errorCode: 0x58,
        lastError: 'expired: ESME_RTHROTTLED: throttled',
      })
      assert.match(unsent.en, /carrier could not take/)
    })

    it('falls back on the recorded error when a failure has no SMPP status', () => {
      const r = failureReason({ status: 'failed', errorCode: null, lastError: 'message too long' })
      assert.equal(r.diagnostic, 'message too long')
      assert.equal(r.status, '5.3.0')
    })
  })

  describe('composeFailureNotice', () => {
    it('writes to the sender, French first then English, with number, times, reason and text', () => {
      const mail = composeFailureNotice(base, options)
      assert.equal(mail.to, 'alice@acme.example')
      assert.equal(mail.from, undefined, 'the mailer fills in its configured From')
      assert.equal(mail.subject, 'SMS non remis : +33612345678 (SMS not delivered)')
      const fr = mail.text.indexOf("Votre SMS n'a pas pu être remis.")
      const en = mail.text.indexOf('Your SMS could not be delivered.')
      assert.ok(fr === 0 && en > fr, mail.text)
      assert.match(mail.text, /Numéro : \+33612345678/)
      assert.match(mail.text, /Number: \+33612345678/)
      assert.match(mail.text, /Envoyé le : 27\/11\/2026 à 14:05 UTC/)
      assert.match(mail.text, /Échec le : 27\/11\/2026 à 14:07 UTC/)
      assert.match(mail.text, /Failed: 27 Nov 2026, 14:07 UTC/)
      assert.match(mail.text, /Raison : le téléphone n'a pas pu recevoir le SMS/)
      assert.match(mail.text, /Reason: the phone could not receive the SMS/)
      // The SMS text, quoted line by line, in both halves.
      assert.equal(mail.text.split('> Rendez-vous à 15h\n> Salle 2').length, 3)
    })

    it('threads under the email the SMS came from', () => {
      const mail = composeFailureNotice(base, options)
      assert.equal(mail.inReplyTo, '<abc.123@client.example.net>')
      assert.equal(mail.references, '<abc.123@client.example.net>')
      const bare = composeFailureNotice({ ...base, sourceMessageId: 'bare@id' }, options)
      assert.equal(bare.inReplyTo, '<bare@id>')
      const none = composeFailureNotice({ ...base, sourceMessageId: null }, options)
      assert.equal(none.inReplyTo, undefined)
      assert.equal(none.references, undefined)
    })

    it('attaches the RFC 3464 fields as details.txt', () => {
      const mail = composeFailureNotice(
        { ...base, status: 'failed', errorCode: 0x0b, lastError: 'ESME_RINVDSTADR: refused' },
        options,
      )
      assert.equal(mail.attachments?.length, 1)
      const [details] = mail.attachments!
      assert.equal(details.filename, DETAILS_FILENAME)
      assert.match(details.contentType, /^text\/plain/)
      const lines = details.content.split('\r\n')
      assert.ok(lines.includes('Reporting-MTA: dns; sms.example.test'))
      assert.ok(lines.includes('Final-Recipient: rfc822; +33612345678@sms.example.test'))
      assert.ok(lines.includes('Action: failed'))
      assert.ok(lines.includes('Status: 5.1.1'))
      assert.ok(lines.includes('Diagnostic-Code: smpp; ESME_RINVDSTADR (0x0000000b)'))
      assert.ok(lines.includes('Last-Attempt-Date: Fri, 27 Nov 2026 14:07:00 +0000'))
      assert.ok(lines.includes('Arrival-Date: Fri, 27 Nov 2026 14:05:00 +0000'))
      // Per-message fields, a blank line, then the recipient's.
      assert.ok(
        lines.indexOf('') < lines.indexOf('Final-Recipient: rfc822; +33612345678@sms.example.test'),
      )
    })

    it('keeps a carrier error with line breaks on one DSN line', () => {
      const fields = deliveryStatusFields(
        { ...base, status: 'failed', errorCode: null, lastError: 'bad\r\nStatus: 2.0.0' },
        options,
      )
      assert.ok(fields.includes('Diagnostic-Code: smpp; bad Status: 2.0.0\r\n'))
      assert.equal(fields.match(/^Status:/gm)?.length, 1)
    })
  })
})
