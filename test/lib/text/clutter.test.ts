import assert from 'node:assert/strict'
import { removeClutter } from '../../../lib/text/clutter'

const UU_LINE = 'M' + '4'.repeat(60)
// Three lines of MIME base64 as an encoder writes them: 76 characters, then a short last one.
const BASE64 = Buffer.from(Array.from({ length: 130 }, (_, i) => (i * 37) % 256))
  .toString('base64')
  .match(/.{1,76}/g) as string[]

describe('removeClutter', () => {
  describe('uuencoded files', () => {
    it('removes the block from "begin" to "end", the file name with it', () => {
      const text = [
        'See the file:',
        'begin 644 plan.txt',
        UU_LINE,
        '#86)C',
        '`',
        'end',
        'Bye',
      ].join('\n')
      assert.equal(removeClutter(text), 'See the file:\nBye')
    })

    it('stops at the first line that is not uuencoded when "end" is missing', () => {
      const text = ['begin 600 a.bin', UU_LINE, 'Call me at 5.'].join('\n')
      assert.equal(removeClutter(text), 'Call me at 5.')
    })

    it('leaves a sentence starting with "begin" alone', () => {
      assert.equal(removeClutter('begin 644 the work at noon'), 'begin 644 the work at noon')
    })
  })

  describe('base64 and hex data', () => {
    it('removes a pasted base64 block, its short last line too', () => {
      const text = ['Logo:', ...BASE64, 'Thanks'].join('\n')
      assert.equal(removeClutter(text), 'Logo:\nThanks')
    })

    it('removes a long hex run inside a line, keeps a SHA-256 and ordinary words', () => {
      const hex = '9bbf38a544f990e7'.repeat(6)
      const sha = 'a'.repeat(32) + '0'.repeat(32)
      assert.equal(removeClutter(`ref ${hex} end`), 'ref  end')
      assert.equal(removeClutter(`commit ${sha}`), `commit ${sha}`)
      assert.equal(removeClutter('x'.repeat(90)), 'x'.repeat(90))
    })
  })

  describe('placeholders', () => {
    it('removes image and cid placeholders, on their own lines and inline', () => {
      const text = '[image: logo.png]\nHello [cid:image001.png@01D9A1B2.C3D4E5F0] Bob\n[image]'
      assert.equal(removeClutter(text), 'Hello  Bob')
    })

    it('removes file names the way clients list attachments', () => {
      const text = [
        'Report attached',
        '<<Q3 report.pdf>>',
        '<scan.jpg>',
        'image001.png',
        '(See attached file: a.xlsx)',
      ].join('\n')
      assert.equal(removeClutter(text), 'Report attached')
    })

    it("removes the message's attachment names, but not a sentence naming one", () => {
      const context = { attachmentNames: ['devis-2024'] }
      assert.equal(
        removeClutter('Voici le devis\ndevis-2024\n[devis-2024]', context),
        'Voici le devis',
      )
      assert.equal(
        removeClutter('I attached report.pdf for you', { attachmentNames: ['report.pdf'] }),
        'I attached report.pdf for you',
      )
    })

    it('removes a line of bracketed labels only when the message carries images', () => {
      assert.equal(removeClutter('[Acme logo]\nHello', { hasImages: true }), 'Hello')
      assert.equal(removeClutter('[URGENT]\nHello'), '[URGENT]\nHello')
    })
  })

  describe('banners', () => {
    it('removes a scan banner before the text, wrapped over lines and prefixed', () => {
      const text = [
        'Filter2: This message has been scanned for viruses and',
        'dangerous content by MailScanner, and is',
        'believed to be clean.',
        '',
        'Meeting moved to 3pm.',
      ].join('\n')
      assert.equal(removeClutter(text), '\nMeeting moved to 3pm.')
    })

    it('removes gateway warnings at the top and antivirus footers at the bottom', () => {
      const text = [
        'CAUTION: This email originated from outside of the organization. Do not click links.',
        '',
        'The truck is at gate 4.',
        '',
        '---',
        'This email has been checked for viruses by Avast antivirus software.',
        'https://www.avast.com/antivirus',
      ].join('\n')
      assert.equal(removeClutter(text).trim(), 'The truck is at gate 4.')
    })

    it("removes a carrier's footer", () => {
      const text = "Running late\n\n-----\nSent via Example Mobile's Text Messaging service.\n-----"
      assert.equal(removeClutter(text).trim(), 'Running late')
    })

    it('keeps such a sentence in the middle, and a long paragraph that starts like one', () => {
      const middle = 'Hi\n\nThis email has been scanned by our IT team.\n\nBye'
      assert.equal(removeClutter(middle), middle)
      const long = `This message was checked twice, ${'and it is all mine '.repeat(30)}`
      assert.equal(removeClutter(long), long)
    })
  })
})
