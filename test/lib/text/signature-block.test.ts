import assert from 'node:assert/strict'
import { classifyLine, signatureStart, type LineKind } from '../../../lib/text/signature-block'
import { isSignOff } from '../../../lib/text/sign-offs'
import { isClientFooter, listFooterStart } from '../../../lib/text/footers'

const signOff = (line: string): boolean => isSignOff(line, line.toLowerCase())

describe('signature lines', () => {
  describe('isSignOff', () => {
    it('knows sign-offs in English, French, German, Spanish, Italian, Portuguese and Dutch', () => {
      for (const line of [
        'Thanks!',
        'Thank you,',
        'Best regards,',
        'Kind regards',
        'Cheers',
        'At your service,',
        'Cordialement,',
        'Bien cordialement',
        'Bien à vous,',
        'Merci !',
        "Merci d'avance,",
        'Bonne journée !',
        'Amitiés',
        'Bises',
        'Mit freundlichen Grüßen',
        'Saludos,',
        'Cordiali saluti',
        'Atenciosamente,',
        'Met vriendelijke groet,',
      ]) {
        assert.ok(signOff(line), line)
      }
    })

    it('takes a name after the phrase, and the phrase carried to a comma', () => {
      assert.ok(signOff('Cheers, Anna'))
      assert.ok(signOff('Merci Jean-Marc'))
      assert.ok(signOff('Merci Marie !'))
      assert.ok(signOff('Thanks again for all your help,'))
    })

    it('refuses sentences that start with a sign-off word', () => {
      for (const line of [
        'Thanks for your attention.',
        'Merci de me rappeler',
        'Best price in town',
        'Thanks for the update, I will call',
        'Bestseller list',
        'Mercier est arrivé',
      ]) {
        assert.ok(!signOff(line), line)
      }
    })

    it('refuses a line too long to be one', () => {
      assert.ok(!signOff(`Thanks ${'a'.repeat(80)},`))
    })
  })

  describe('classifyLine', () => {
    const cases: Array<[string, LineKind]> = [
      ['Regards,', 'sign-off'],
      ['---', 'delimiter'],
      ['__________', 'delimiter'],
      ['-Roman', 'dash-name'],
      ['- Jean Dupont', 'dash-name'],
      ['--> two', 'list-item'],
      ['- 3 colis', 'list-item'],
      ['Sent from my iPhone', 'footer'],
      ['via mobile', 'footer'],
      ['(555) 210-4433', 'contact'],
      ['+33 4 72 00 00 00', 'contact'],
      ['+ one more thing', 'list-item'],
      ['Tél. 04 00 00 00 00', 'contact'],
      ['jean@example.fr', 'contact'],
      ['www.example.com', 'link'],
      ['skype: jdupont', 'contact'],
      ['Anne M. Leroy, Ph.D.', 'name'],
      ['Baker & Sons Ltd', 'name'],
      ['Assistante de direction - Garnier Conseil', 'name'],
      ['some text which does not look like much', 'text'],
      ['See you at noon.', 'prose'],
      ['Can you call me?', 'prose'],
      ['Voici la liste :', 'prose'],
      ['PS: the code is 1234', 'prose'],
      ['P.-S. : le code est 1234', 'prose'],
      ['From: Alice', 'prose'],
      [`${'word '.repeat(13)}`, 'prose'],
    ]
    for (const [line, kind] of cases) {
      it(`${JSON.stringify(line)} is ${kind}`, () => assert.equal(classifyLine(line), kind))
    }

    it('reads a megabyte line as prose without looking at it', () => {
      const started = Date.now()
      assert.equal(classifyLine(`Thanks ${'x'.repeat(1_000_000)}`), 'prose')
      assert.ok(Date.now() - started < 100)
    })
  })

  describe('signatureStart', () => {
    const start = (text: string): number => {
      const lines = text.split('\n')
      return signatureStart(lines, lines.length, 0)
    }

    it('gives the index of the first signature line', () => {
      assert.equal(start('Hi\nok.\n\nThanks,\nBob'), 3)
    })

    it('gives the end when there is none', () => {
      assert.equal(start('Hi\nSee you at noon.'), 2)
      assert.equal(start('Thanks,\nBob'), 2)
    })

    it('looks at the last dozen lines only', () => {
      const filler = Array.from({ length: 20 }, (_, i) => `Line ${i}`).join('\n')
      assert.equal(start(`Hi\nok.\nThanks,\n${filler}`), 23)
    })
  })
})

describe('footers', () => {
  it('knows client footers in several languages', () => {
    for (const line of [
      'sent from my iphone',
      'sent from mailbox for iphone',
      'envoyé de mon ipad',
      'von meinem iphone gesendet',
      'enviado desde mi iphone',
      'verzonden vanaf mijn iphone',
      'inviato da iphone',
    ]) {
      assert.ok(isClientFooter(line), line)
    }
    assert.ok(!isClientFooter('sent from the depot at 9.'))
    assert.ok(!isClientFooter('envoyé par la poste'))
  })

  it('finds a list footer under its rule', () => {
    assert.equal(
      listFooterStart(['text.', '_____', 'team mailing list', 'https://x/mailman/listinfo/t']),
      1,
    )
    assert.equal(listFooterStart(['text.', '_____', 'budget', 'planning']), -1)
  })
})
