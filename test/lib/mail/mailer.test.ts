import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { simpleParser } from 'mailparser'
import { createMailer } from '../../../lib/mail/mailer'
import { SmtpSink } from '../../support/smtp-sink'

describe('lib/mail/mailer', () => {
  describe('smtp transport', () => {
    let sink: SmtpSink

    beforeEach(async () => {
      sink = new SmtpSink()
      await sink.start()
    })

    afterEach(async () => sink.stop())

    it('hands the message to the relay, marked as automatic, with its threading headers', async () => {
      const mailer = createMailer(sink.mailerConfig())
      try {
        const sent = await mailer.send({
          to: 'marie@client.test',
          subject: 'Réponse de +33612345678',
          text: 'Merci, à demain',
          inReplyTo: '<orig@client.test>',
          references: '<orig@client.test>',
          headers: { 'auto-submitted': 'no', 'X-Mail2SMS-Kind': 'forward' },
        })
        await sink.until((mails) => mails.length === 1)
        const mail = sink.mails[0]
        assert.deepEqual(mail.envelopeTo, ['marie@client.test'])
        assert.equal(mail.parsed.subject, 'Réponse de +33612345678')
        assert.equal(mail.parsed.text?.trim(), 'Merci, à demain')
        // A caller cannot turn the loop guard off.
        assert.equal(mail.header('auto-submitted'), 'auto-generated')
        assert.equal((mail.raw.toString().match(/^auto-submitted:/gim) ?? []).length, 1)
        assert.equal(mail.header('x-mail2sms-kind'), 'forward')
        assert.equal(mail.header('in-reply-to'), '<orig@client.test>')
        assert.equal(mail.parsed.messageId, sent.messageId)
      } finally {
        await mailer.close()
      }
    })

    it('fails the send when the relay refuses, so the caller can retry', async () => {
      const mailer = createMailer(sink.mailerConfig())
      try {
        sink.refuse(1)
        await assert.rejects(mailer.send({ to: 'a@client.test', subject: 's', text: 't' }), /451/)
        assert.equal(sink.mails.length, 0)
      } finally {
        await mailer.close()
      }
    })
  })

  describe('file transport', () => {
    it('writes one .eml per message and logs its path', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-mail-'))
      const logged: string[] = []
      const mailer = createMailer(
        { transport: 'file', smtpUrl: '', from: 'Mail2SMS <m@sms.example.test>', directory: dir },
        { info: (line) => logged.push(line) },
      )
      try {
        const sent = await mailer.send({ to: 'a@client.test', subject: 'Invitation', text: 'Lien' })
        assert.ok(sent.file && sent.file.startsWith(dir) && sent.file.endsWith('.eml'))
        const parsed = await simpleParser(fs.readFileSync(sent.file))
        assert.equal(parsed.subject, 'Invitation')
        assert.equal(parsed.headers.get('auto-submitted'), 'auto-generated')
        assert.ok(logged.some((line) => line.includes(sent.file as string)))
      } finally {
        await mailer.close()
        fs.rmSync(dir, { recursive: true, force: true })
      }
    })
  })
})
