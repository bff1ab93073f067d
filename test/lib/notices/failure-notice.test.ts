import assert from 'node:assert/strict'
import {
  composeFailureNotice,
  deliveryStatusFields,
  DETAILS_FILENAME,
  type FailedSms,
} from '../../../lib/notices/failure-notice'
import { failureReason } from '../../../lib/notices/failure-reason'
import { partNumberList, summariseParts } from '../../../lib/notices/part-outcomes'

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

  describe('a partly delivered SMS', () => {
    const partial: FailedSms = {
      ...base,
      status: 'partial',
      errorCode: 0x02,
      lastError: 'ESME_RINVCMDLEN: refused',
      parts: {
        count: 3,
        states: new Map([
          [1, 'delivered'],
          [2, 'refused'],
          [3, 'delivered'],
        ]),
      },
    }

    it('says which parts were delivered and why the others were not, in both languages', () => {
      const mail = composeFailureNotice(partial, options)
      assert.equal(mail.subject, 'SMS remis en partie : +33612345678 (SMS partly delivered)')
      assert.ok(mail.text.startsWith("Votre SMS n'a été remis qu'en partie.\n"), mail.text)
      const lines = mail.text.split('\n')
      const fr = lines.indexOf("Raison : le destinataire n'a reçu qu'une partie du SMS")
      assert.ok(fr > 0, mail.text)
      assert.deepEqual(lines.slice(fr + 1, fr + 3), [
        'Parties remises : 1 et 3 sur 3.',
        "Partie 2 refusée par l'opérateur (ESME_RINVCMDLEN).",
      ])
      const en = lines.indexOf('Reason: the recipient received only part of the SMS')
      assert.ok(en > fr, mail.text)
      assert.deepEqual(lines.slice(en + 1, en + 3), [
        'Parts delivered: 1 and 3 of 3.',
        'Part 2 refused by the carrier (ESME_RINVCMDLEN).',
      ])
      assert.ok(lines.includes('Your SMS was only partly delivered.'))
      assert.ok(
        lines.includes(
          'Technical detail: delivered parts 1,3 of 3; part 2 refused: ESME_RINVCMDLEN (0x00000002)',
        ),
      )
    })

    it('writes the parts in the DSN fields, with the status its refused part would give', () => {
      const lines = deliveryStatusFields(partial, options).split('\r\n')
      assert.ok(lines.includes('Action: failed'))
      assert.ok(lines.includes('Status: 5.3.0'), lines.join('\n'))
      assert.ok(
        lines.includes(
          'Diagnostic-Code: smpp; delivered parts 1,3 of 3; part 2 refused: ESME_RINVCMDLEN (0x00000002)',
        ),
      )
      assert.ok(lines.includes('X-SMS-Parts-Delivered: 1,3 of 3'))
      // An SMS that failed whole has no such field.
      assert.doesNotMatch(deliveryStatusFields(base, options), /X-SMS-Parts/)
    })

    it('groups the missing parts by why, agreeing in French, a part without a row as no receipt', () => {
      const mail = composeFailureNotice(
        {
          ...partial,
          errorCode: null,
          lastError: 'receipt: undeliverable (error 001)',
          parts: {
            count: 5,
            states: new Map([
              [1, 'undeliverable'],
              [2, 'delivered'],
              [3, 'expired'],
              [4, 'undeliverable'],
            ]),
          },
        },
        options,
      )
      for (const line of [
        'Partie remise : 2 sur 5.',
        "Parties 1 et 4 non distribuables d'après l'opérateur.",
        'Partie 3 expirée avant remise.',
        "Partie 5 sans accusé de réception de l'opérateur.",
        'Part delivered: 2 of 5.',
        'Parts 1 and 4 undeliverable, says the carrier.',
        'Part 3 expired before delivery.',
        'Part 5 without a receipt from the carrier.',
      ]) {
        assert.ok(mail.text.split('\n').includes(line), `missing ${line}\n${mail.text}`)
      }
      const dsn = mail.attachments?.[0].content ?? ''
      assert.match(dsn, /\r\nStatus: 5\.4\.0\r\n/)
      assert.match(
        dsn,
        /Diagnostic-Code: smpp; delivered parts 2 of 5; parts 1,4 undeliverable; part 3 expired; part 5 no-receipt\r\n/,
      )
    })

    it('takes the status code from the cause of the first missing part', () => {
      const reason = (code: number | null, states: Array<[number, string]>) =>
        failureReason({
          status: 'partial',
          errorCode: code,
          lastError: null,
          parts: { count: 2, states: new Map(states) },
        }).status
      assert.equal(
        reason(0x0b, [
          [1, 'delivered'],
          [2, 'refused'],
        ]),
        '5.1.1',
      )
      assert.equal(
        reason(0x01, [
          [1, 'delivered'],
          [2, 'refused'],
        ]),
        '5.6.0',
      )
      assert.equal(
        reason(null, [
          [1, 'expired'],
          [2, 'delivered'],
        ]),
        '5.4.7',
      )
    })

    it('still writes a notice when the parts are not known, without a list', () => {
      const mail = composeFailureNotice({ ...partial, parts: undefined }, options)
      assert.match(mail.text, /Raison : le destinataire n'a reçu qu'une partie du SMS\nDétail/)
      assert.doesNotMatch(mail.text, /Parties remises|sur 0|X-SMS-Parts/)
      assert.match(mail.attachments?.[0].content ?? '', /Diagnostic-Code: smpp; ESME_RINVCMDLEN/)
    })

    it('lists part numbers as a sentence does', () => {
      assert.equal(partNumberList([2], 'fr'), '2')
      assert.equal(partNumberList([1, 3], 'fr'), '1 et 3')
      assert.equal(partNumberList([1, 2, 4], 'en'), '1, 2 and 4')
      assert.deepEqual(summariseParts({ count: 2, states: new Map([[3, 'delivered']]) }), {
        count: 3,
        delivered: [3],
        missed: [{ kind: 'no-receipt', parts: [1, 2] }],
      })
    })
  })
})
