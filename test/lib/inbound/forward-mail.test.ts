import assert from 'node:assert/strict'
import type { InboundSms } from '../../../lib/db/inbound'
import { composeForwardMail, describeTime, replyAddress } from '../../../lib/inbound/forward-mail'

const sms = (fields: Partial<InboundSms> = {}): InboundSms => ({
  id: 12,
  accountId: 1,
  fromNumber: '+33612345678',
  toNumber: '+33700000001',
  body: 'Bonjour !',
  encoding: 'gsm7',
  parts: 1,
  missingParts: 0,
  source: 'smpp',
  carrierId: null,
  status: 'mailing',
  replyToSmsId: null,
  mailAttempts: 1,
  nextAttemptAt: null,
  lastError: null,
  receivedAt: Date.UTC(2026, 10, 27, 15, 44, 27),
  mailedAt: null,
  ...fields,
})

describe('lib/inbound/forward-mail', () => {
  it('gives the time readable in French and exact, in UTC', () => {
    assert.equal(
      describeTime(Date.UTC(2026, 10, 27, 15, 44, 27)),
      'vendredi 27 novembre 2026 à 15:44 UTC (2026-11-27T15:44:27Z)',
    )
  })

  it('comes from the address that texts the number back from the account', () => {
    assert.equal(
      replyAddress('+33612345678', 'acme', 'sms.example.com'),
      '+33612345678+acme@sms.example.com',
    )
    const mail = composeForwardMail({
      sms: sms(),
      accountRef: 'acme',
      smsDomain: 'sms.example.com',
      to: ['a@x.example'],
    })
    assert.equal(mail.from, '"+33612345678" <+33612345678+acme@sms.example.com>')
    assert.equal(mail.subject, 'SMS de +33612345678')
    assert.deepEqual(mail.to, ['a@x.example'])
    assert.equal(mail.inReplyTo, undefined)
    assert.match(mail.text, /^SMS reçu de \+33612345678 sur votre numéro \+33700000001\n/)
    assert.match(mail.text, /\nReçu le vendredi 27 novembre 2026 à 15:44 UTC/)
    assert.match(mail.text, /\n\nBonjour !\n\n--\n/)
    assert.match(mail.text, /Répondez à cet e-mail pour envoyer un SMS à \+33612345678\./)
  })

  it('sends an SMS from a name or a short code with the gateway From, saying it cannot be answered', () => {
    for (const fromNumber of ['Free Mobile', 'a"<boss@corp.example>', '36180']) {
      const mail = composeForwardMail({
        sms: sms({ fromNumber }),
        accountRef: 'acme',
        smsDomain: 'sms.example.com',
        to: ['a@x.example'],
      })
      assert.equal(mail.from, undefined, fromNumber)
      assert.doesNotMatch(mail.text, /Répondez à cet e-mail/)
      assert.match(mail.text, /ne peut pas recevoir de SMS/)
      assert.equal(mail.subject, `SMS de ${fromNumber}`)
    }
  })

  it('says when the SMS is incomplete or binary', () => {
    const partial = composeForwardMail({
      sms: sms({ parts: 2, missingParts: 1, body: 'début […]' }),
      accountRef: 'acme',
      smsDomain: 'sms.example.com',
      to: ['a@x.example'],
    })
    assert.match(partial.text, /incomplet \(2 parties reçues sur 3\)/)
    const binary = composeForwardMail({
      sms: sms({ encoding: 'binary', body: '0605' }),
      accountRef: 'acme',
      smsDomain: 'sms.example.com',
      to: ['a@x.example'],
    })
    assert.match(binary.text, /données binaires, reproduites ici en hexadécimal/)
  })

  it('threads a direct reply under the original email', () => {
    const mail = composeForwardMail({
      sms: sms(),
      accountRef: 'acme',
      smsDomain: 'sms.example.com',
      to: ['bob@x.example'],
      replied: {
        id: 5,
        senderEmail: 'bob@x.example',
        body: 'On se voit à 16h ?',
        sourceMessageId: 'abc@x.example',
        createdAt: Date.UTC(2026, 10, 27, 15, 0, 0),
      },
    })
    assert.equal(mail.inReplyTo, '<abc@x.example>')
    assert.equal(mail.references, '<abc@x.example>')
    assert.match(mail.text, /En réponse à votre SMS du vendredi 27 novembre 2026 à 15:00 UTC/)
    assert.match(mail.text, /« On se voit à 16h \? »/)
  })
})
