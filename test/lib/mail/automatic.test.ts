import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { detectAutomaticMail } from '../../../lib/mail/automatic'
import { parseEmail } from '../../../lib/mail/parse'

const load = (name: string) =>
  parseEmail(fs.readFileSync(path.join(__dirname, '../../fixtures/mail', name)))

const headers = (entries: Record<string, unknown>) => new Map(Object.entries(entries))

describe('detectAutomaticMail', () => {
  describe('on real messages', () => {
    it('names the Auto-Submitted of an out-of-office reply', async () => {
      assert.equal(
        detectAutomaticMail(await load('auto-reply.eml')),
        'Auto-Submitted: auto-replied',
      )
    })

    it('names the report type of a bounce', async () => {
      assert.equal(
        detectAutomaticMail(await load('dsn.eml')),
        'Content-Type: multipart/report (delivery-status)',
      )
    })

    it('names the precedence of bulk mail', async () => {
      assert.equal(detectAutomaticMail(await load('bulk.eml')), 'Precedence: bulk')
    })

    it("lets ordinary mail through, Outlook's X-Auto-Response-Suppress: All included", async () => {
      const outlook = await load('outlook-reply.eml')
      assert.equal(outlook.headers.get('x-auto-response-suppress'), 'All')
      assert.equal(detectAutomaticMail(outlook), null)
      for (const name of [
        'plain-ascii.eml',
        'html-only.eml',
        'gmail-reply-fr.eml',
        'apple-reply.eml',
      ]) {
        assert.equal(detectAutomaticMail(await load(name)), null, name)
      }
    })

    it('accepts the header map alone', async () => {
      const mail = await load('auto-reply.eml')
      assert.equal(detectAutomaticMail(mail.headers), 'Auto-Submitted: auto-replied')
    })
  })

  describe('Auto-Submitted', () => {
    it('is automatic for any value but no, whatever the case', () => {
      assert.equal(
        detectAutomaticMail(headers({ 'auto-submitted': 'Auto-Generated' })),
        'Auto-Submitted: auto-generated',
      )
      assert.equal(
        detectAutomaticMail(
          headers({ 'auto-submitted': 'auto-notified; owner-email="a@example.com"' }),
        ),
        'Auto-Submitted: auto-notified',
      )
      assert.equal(detectAutomaticMail(headers({ 'auto-submitted': 'No' })), null)
      assert.equal(
        detectAutomaticMail(headers({ 'auto-submitted': 'no (written by a person)' })),
        null,
      )
    })

    it('reads every copy of a repeated header', () => {
      assert.equal(
        detectAutomaticMail(headers({ 'auto-submitted': ['no', 'auto-replied'] })),
        'Auto-Submitted: auto-replied',
      )
    })

    it('finds headers in a hand-built map with any name case', () => {
      assert.equal(
        detectAutomaticMail(new Map([['Auto-Submitted', 'auto-replied']])),
        'Auto-Submitted: auto-replied',
      )
    })
  })

  describe('multipart/report', () => {
    it('catches read receipts as parsed by mailparser', () => {
      const contentType = {
        value: 'multipart/report',
        params: { 'report-type': 'disposition-notification' },
      }
      assert.equal(
        detectAutomaticMail(headers({ 'content-type': contentType })),
        'Content-Type: multipart/report (disposition-notification)',
      )
    })

    it('catches a raw header value too', () => {
      assert.equal(
        detectAutomaticMail(
          headers({ 'content-type': 'Multipart/Report; report-type="delivery-status"' }),
        ),
        'Content-Type: multipart/report (delivery-status)',
      )
      assert.equal(
        detectAutomaticMail(headers({ 'content-type': 'multipart/report' })),
        'Content-Type: multipart/report',
      )
    })

    it('leaves other multipart types alone', () => {
      assert.equal(
        detectAutomaticMail(headers({ 'content-type': { value: 'multipart/mixed', params: {} } })),
        null,
      )
    })
  })

  describe('Precedence', () => {
    it('is automatic for bulk, junk, list and auto_reply', () => {
      for (const value of ['bulk', 'JUNK', 'list', 'auto_reply']) {
        assert.equal(
          detectAutomaticMail(headers({ precedence: value })),
          `Precedence: ${value.toLowerCase()}`,
        )
      }
    })

    it('is not for other values', () => {
      assert.equal(detectAutomaticMail(headers({ precedence: 'first-class' })), null)
    })
  })

  describe('vendor headers', () => {
    it('treats X-Autoreply and X-Autorespond as automatic unless they say no', () => {
      assert.equal(detectAutomaticMail(headers({ 'x-autoreply': 'yes' })), 'X-Autoreply: yes')
      assert.equal(detectAutomaticMail(headers({ 'x-autoreply': 'NO' })), null)
      assert.equal(
        detectAutomaticMail(
          headers({
            'x-autorespond': 'Thank you for your message, we will answer within 48 hours',
          }),
        ),
        'X-Autorespond: Thank you for your message, we will answ...',
      )
    })

    it('does not treat X-Auto-Response-Suppress as automatic', () => {
      assert.equal(detectAutomaticMail(headers({ 'x-auto-response-suppress': 'All' })), null)
      assert.equal(
        detectAutomaticMail(headers({ 'x-auto-response-suppress': 'DR, RN, NRN, OOF, AutoReply' })),
        null,
      )
    })

    it('does not treat list headers alone as automatic', () => {
      assert.equal(
        detectAutomaticMail(
          headers({ list: { unsubscribe: { url: 'https://news.example.com/u/1' } } }),
        ),
        null,
      )
    })
  })
})

describe('detectAutomaticMail: read receipts', () => {
  const receipt = (head: string[], body: string) =>
    parseEmail(Buffer.from(['From: bob@acme.example', ...head, '', body, ''].join('\r\n')))

  it('refuses an MDN whatever its outer type: Exchange content class or a notification part', async () => {
    const exchange = await receipt(
      ['Subject: Read: invitation', 'Content-Class: urn:content-classes:mdn'],
      'x',
    )
    assert.equal(detectAutomaticMail(exchange), 'Content-Class: urn:content-classes:mdn')
    const mixed = await receipt(
      ['Subject: Lu : invitation', 'Content-Type: multipart/mixed; boundary="b"'],
      [
        '--b',
        'Content-Type: text/plain',
        '',
        'Read',
        '--b',
        'Content-Type: message/disposition-notification',
        '',
        'Final-Recipient: rfc822;bob@acme.example',
        'Disposition: manual-action/MDN-sent-manually; displayed',
        '--b--',
      ].join('\r\n'),
    )
    assert.equal(detectAutomaticMail(mixed), 'a message/disposition-notification part')
  })

  it('refuses a flattened receipt by its subject and its receipt sentence', async () => {
    const outlook = await receipt(
      ['Subject: Read: invitation'],
      'Your message\r\n\r\n  To: Bob\r\n  Subject: invitation\r\n\r\nwas read on 03/12/2026 10:02.',
    )
    assert.equal(detectAutomaticMail(outlook), 'read receipt')
    const french = await receipt(
      ['Subject: Lu : réunion'],
      'Votre message\r\n\r\n  Objet : réunion\r\n\r\na été lu le 03/12/2026 10:02.',
    )
    assert.equal(detectAutomaticMail(french), 'read receipt')
  })

  it('lets a person write a subject starting with "Read:"', async () => {
    const human = await receipt(['Subject: Read: chapter 3 before Monday'], 'Thanks, Bob')
    assert.equal(detectAutomaticMail(human), null)
    const asking = await receipt(
      ['Subject: Gelesen: Bericht', 'Disposition-Notification-To: bob@acme.example'],
      'Bitte bis Montag lesen.',
    )
    assert.equal(detectAutomaticMail(asking), null)
  })
})
