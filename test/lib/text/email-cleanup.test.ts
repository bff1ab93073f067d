import assert from 'node:assert/strict'
import { parseEmail } from '../../../lib/mail/parse'
import { looksLikeHtml } from '../../../lib/text/html'
import { emailToSmsText } from '../../../lib/text/sms-text'

const HEAD = 'From: a@acme.example\r\nSubject: Note\r\nMIME-Version: 1.0\r\n'

async function smsOf(raw: string | Buffer): Promise<string> {
  return (await emailToSmsText(await parseEmail(Buffer.from(raw)))).text
}

describe('email to SMS text: what mail software adds is removed', () => {
  it('converts HTML sent without a Content-Type', async () => {
    const sms = await smsOf(`${HEAD}\r\n<p><b>Server</b> down &amp; restarting</p><br>\r\n`)
    assert.equal(sms, 'Server down & restarting')
  })

  it('converts a whole HTML document labelled text/plain, not a text that shows a tag', async () => {
    const doc = `<!DOCTYPE html>\r\n<html><body><div>Gate&nbsp;4</div></body></html>\r\n`
    assert.equal(await smsOf(`${HEAD}Content-Type: text/plain\r\n\r\n${doc}`), 'Gate 4')
    const text = 'Use <b> for bold\r\n'
    assert.equal(await smsOf(`${HEAD}Content-Type: text/plain\r\n\r\n${text}`), 'Use <b> for bold')
  })

  it('looksLikeHtml is lenient only for an undeclared body', () => {
    assert.equal(looksLikeHtml('<div>x</div>', false), true)
    assert.equal(looksLikeHtml('<div>x</div>', true), false)
    assert.equal(looksLikeHtml('<HTML>\n<body>x', true), true)
    assert.equal(looksLikeHtml('<3 see you', false), false)
  })

  it('leaves out attachment names and image placeholders of the text part', async () => {
    const raw = [
      HEAD + 'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      '[image: logo.png]',
      'Invoice attached.',
      '<<facture 2024-11.pdf>>',
      '--b',
      'Content-Type: application/pdf; name="facture 2024-11.pdf"',
      'Content-Disposition: attachment; filename="facture 2024-11.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERi0xLjQK',
      '--b',
      'Content-Type: image/png; name="logo.png"',
      'Content-Disposition: inline; filename="logo.png"',
      'Content-Transfer-Encoding: base64',
      '',
      'iVBORw0KGgo=',
      '--b--',
      '',
    ].join('\r\n')
    assert.equal(await smsOf(raw), 'Invoice attached.')
  })

  it('leaves out controls, an inline uuencoded file and a scan banner', async () => {
    const body = [
      'This email has been scanned by the Example Security service.',
      '',
      'Backup \u001b[31mFAILED\u001b[0m\u0000 on db1',
      'begin 644 backup.log',
      'M' + '4'.repeat(60),
      '`',
      'end',
    ].join('\r\n')
    assert.equal(
      await smsOf(`${HEAD}Content-Type: text/plain\r\n\r\n${body}\r\n`),
      'Backup FAILED on db1',
    )
  })

  it('leaves out a uuencoded file whose last line starts with ">" (30 bytes), not only part of it', async () => {
    const body = [
      'Voici la photo.',
      '',
      'begin 644 photo.jpg',
      'M' + "!P<'".repeat(15),
      '>' + "!P<'".repeat(10),
      '`',
      'end',
      '',
      'La suite demain.',
    ].join('\r\n')
    assert.equal(
      await smsOf(`${HEAD}Content-Type: text/plain\r\n\r\n${body}\r\n`),
      'Voici la photo.\n\nLa suite demain.',
    )
  })

  it('falls back to the Subject, controls removed, when only clutter is left', async () => {
    const raw = 'From: a@acme.example\r\nSubject: Door\u0007 open\r\n\r\n[image: cam.jpg]\r\n'
    assert.equal(await smsOf(raw), 'Door open')
  })
})
