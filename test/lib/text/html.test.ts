import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { parseEmail } from '../../../lib/mail/parse'
import { decodeEntities, htmlToPlainText } from '../../../lib/text/html'

const htmlOf = async (name: string): Promise<string> => {
  const mail = await parseEmail(fs.readFileSync(path.join(__dirname, '../../fixtures/mail', name)))
  assert.equal(typeof mail.html, 'string', `${name} has HTML`)
  return mail.html as string
}

describe('htmlToPlainText', () => {
  describe('layout', () => {
    it('breaks lines at blocks and <br>, once for nested blocks', () => {
      assert.equal(
        htmlToPlainText('<div><div>Un</div></div><div>Deux<br>Trois</div>'),
        'Un\nDeux\nTrois',
      )
    })

    it("keeps Gmail's empty <div><br></div> as a blank line", () => {
      assert.equal(
        htmlToPlainText('<div>Hello</div><div><br></div><div>World</div>'),
        'Hello\n\nWorld',
      )
    })

    it('puts a blank line before paragraphs and headings', () => {
      assert.equal(htmlToPlainText('<h1>Titre</h1><p>Un</p><p>Deux</p>'), 'Titre\n\nUn\n\nDeux')
    })

    it("treats Outlook's MsoNormal and zero-margin paragraphs as lines", () => {
      const html =
        '<p class=MsoNormal>Un<o:p></o:p></p><p class="MsoNormal">Deux</p><p style="margin:0">Trois</p>' +
        '<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Quatre</p>'
      assert.equal(htmlToPlainText(html), 'Un\nDeux\nTrois\n\nQuatre')
    })

    it('collapses source whitespace like a browser', () => {
      assert.equal(htmlToPlainText('<div>  Un\n   deux\t<b>trois</b> </div>'), 'Un deux trois')
    })

    it('keeps line breaks inside <pre>', () => {
      assert.equal(htmlToPlainText('<pre>ligne 1\nligne 2</pre>suite'), 'ligne 1\nligne 2\nsuite')
    })

    it('writes list items as dashes and separates table cells', () => {
      assert.equal(htmlToPlainText('<ul><li>un</li><li>deux</li></ul>'), '- un\n- deux')
      assert.equal(
        htmlToPlainText('<table><tr><td>A</td><td>B</td></tr><tr><td>C</td></tr></table>'),
        'A B\nC',
      )
    })
  })

  describe('what is not text', () => {
    it('drops head, title, style, script and comments, conditional ones included', () => {
      const html =
        '<html><head><title>T</title><style>p{color:red}</style></head><body>' +
        '<script>if (a < b) alert("x")</script><!-- note --><!--[if mso]><p>Outlook</p><![endif]-->' +
        '<p>Corps</p></body></html>'
      assert.equal(htmlToPlainText(html), 'Corps')
    })

    it('keeps the body when <head> is never closed', () => {
      assert.equal(htmlToPlainText('<head><meta charset="utf-8"><p>Corps</p>'), 'Corps')
    })

    it('keeps link text and drops images', () => {
      assert.equal(
        htmlToPlainText(
          '<a href="https://example.com/?a=1&amp;b=2">Suivi</a> <img src="x.png" alt="Logo">',
        ),
        'Suivi',
      )
    })

    it('reads quoted attribute values that contain ">"', () => {
      assert.equal(htmlToPlainText('<a title="a > b" href=\'x\'>lien</a>'), 'lien')
    })

    it('does not let a stray quote in a tag swallow the document', () => {
      assert.equal(htmlToPlainText('<div class="a"">Un</div><div>Deux</div>'), 'Un\nDeux')
    })

    it('keeps a "<" that opens no tag', () => {
      assert.equal(htmlToPlainText('<div>3 < 5 et 5 > 3</div>'), '3 < 5 et 5 > 3')
    })

    it('stays linear on hostile markup', () => {
      const started = Date.now()
      htmlToPlainText('<a'.repeat(100_000))
      htmlToPlainText('<head>x'.repeat(50_000))
      htmlToPlainText('<b x="'.repeat(50_000))
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
    })
  })

  describe('quoted replies', () => {
    it('drops <blockquote type="cite"> and keeps other blockquotes', () => {
      const html =
        '<div>Réponse</div><blockquote type="cite"><div>Ancien <blockquote>imbriqué</blockquote></div></blockquote>' +
        '<blockquote>Citation voulue</blockquote>'
      assert.equal(htmlToPlainText(html), 'Réponse\nCitation voulue')
    })

    it("drops Thunderbird's attribution and quote", () => {
      const html =
        '<p>Oui.</p><div class="moz-cite-prefix">Le 03/03/2025 à 10:12, Jean a écrit&nbsp;:<br></div>' +
        '<blockquote type="cite" cite="mid:x@example.com">Question ?</blockquote>'
      assert.equal(htmlToPlainText(html), 'Oui.')
    })

    it('drops gmail_quote containers with their nested divs, keeping what follows', () => {
      const html =
        '<div>Avant</div><div class="gmail_quote"><div class="gmail_attr">On … wrote:</div>' +
        '<div><div>vieux</div></div></div><div>Réponse après</div>'
      assert.equal(htmlToPlainText(html), 'Avant\nRéponse après')
    })

    it("ends the text at Outlook's divRplyFwdMsg, whose history follows as siblings", async () => {
      assert.equal(
        htmlToPlainText(await htmlOf('outlook-fr-reply.eml')),
        'Bonjour,\n\nC\u2019est noté, je passe récupérer le dossier à 17h.\n\n' +
          'Bien à vous,\nSophie Garnier\nAssistante de direction \u2013 Garnier Conseil',
      )
    })

    it('reads the Gmail replies', async () => {
      assert.equal(
        htmlToPlainText(await htmlOf('gmail-reply-en.eml')),
        'Perfect, see you at the gate at 8.',
      )
      assert.equal(
        htmlToPlainText(await htmlOf('gmail-reply-fr.eml')),
        'Oui, je confirme pour demain 9h. Merci !',
      )
    })

    it('reads an app notification', async () => {
      assert.equal(
        htmlToPlainText(await htmlOf('html-only.eml')),
        'Changement de planning\n\nBonjour Karim,\n\n' +
          'Votre tournée de demain commence à 6 h 30 au dépôt de Vénissieux :\n' +
          '- Lyon 3e \u2013 12 colis\n- Bron \u2013 7 colis\n\nL\u2019équipe planning',
      )
    })
  })
})

describe('decodeEntities', () => {
  it('decodes named, decimal and hexadecimal references', () => {
    assert.equal(
      decodeEntities(
        '&eacute;t&eacute; &#233;&#xE9;&#XE9; &laquo;&nbsp;&raquo; &euro; &hellip; &amp;',
      ),
      'été ééé «\u00a0» € … &',
    )
  })

  it('accepts numeric references without their semicolon', () => {
    assert.equal(decodeEntities('caf&#233 ok'), 'café ok')
  })

  it('leaves unknown names, bare names and non-characters as written', () => {
    assert.equal(
      decodeEntities('&bogus; a=1&copy=2 &#0; &#xD800; &#x110000;'),
      '&bogus; a=1&copy=2 &#0; &#xD800; &#x110000;',
    )
  })
})
