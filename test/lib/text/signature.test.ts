import assert from 'node:assert/strict'
import { cutAtSignature } from '../../../lib/text/signature'

describe('cutAtSignature', () => {
  describe('standard delimiter', () => {
    it('cuts at "-- " and everything after it', () => {
      assert.equal(cutAtSignature('RDV 10h.\n\n-- \nJean Dupont\n06 00 00 00 00'), 'RDV 10h.')
    })

    it('cuts at "--" whose trailing space was lost on the way', () => {
      assert.equal(cutAtSignature('RDV 10h.\n--\nJean'), 'RDV 10h.')
      assert.equal(cutAtSignature('RDV 10h.\r\n-- \r\nJean'), 'RDV 10h.')
    })

    it('keeps a message that is nothing but a signature rather than leave nothing', () => {
      assert.equal(cutAtSignature('--\nRoman'), '--\nRoman')
      assert.equal(cutAtSignature('\n-- \nJeanne Martin'), '\n-- \nJeanne Martin')
    })

    it('does not cut at lines that merely begin with dashes', () => {
      const text = 'Tarifs\n---\n-- voir plus bas\n- item'
      assert.equal(cutAtSignature(text), text)
    })
  })

  describe("account's marker", () => {
    const body =
      'Bonjour,\n\nVos résultats sont prêts.\n\nDr Claire MOREAU – Médecin\n12 rue des Lilas'

    it('cuts at the line that starts with it, ignoring case and spacing', () => {
      assert.equal(
        cutAtSignature(body, 'dr  claire moreau'),
        'Bonjour,\n\nVos résultats sont prêts.',
      )
    })

    it('cuts at the line equal to it', () => {
      assert.equal(cutAtSignature('Merci\nCordialement,\nJean', 'Cordialement,'), 'Merci')
    })

    it('matches whole words only', () => {
      const text = 'Drôle de journée.\nDr Martin'
      assert.equal(cutAtSignature(text, 'Dr'), 'Drôle de journée.')
    })

    it('takes the first line of a marker pasted with the whole signature', () => {
      assert.equal(
        cutAtSignature(body, '\nDr Claire Moreau\n12 rue des Lilas'),
        'Bonjour,\n\nVos résultats sont prêts.',
      )
    })

    it('matches whatever quotes and spaces the client typed', () => {
      const text = 'Rappel demain.\nL\u2019\u00e9quipe\u00a0Planning'
      assert.equal(cutAtSignature(text, "L'équipe Planning"), 'Rappel demain.')
    })

    it('cuts at the first of marker and delimiter', () => {
      assert.equal(cutAtSignature('A\n-- \nB\nJean', 'Jean'), 'A')
      assert.equal(cutAtSignature('A\nJean\n-- \nB', 'Jean'), 'A')
    })

    it('ignores an empty or missing marker', () => {
      for (const marker of [undefined, null, '', ' \n ']) {
        assert.equal(cutAtSignature('Merci\nJean', marker), 'Merci\nJean')
      }
    })
  })

  describe('mobile footers', () => {
    const footers = [
      'Sent from my iPhone',
      'Envoyé de mon iPhone',
      'Envoyé depuis mon mobile',
      'Get Outlook for Android',
      'Get Outlook for iOS<https://aka.ms/o0ukef>',
      'Envoyé à partir de Outlook pour Android',
      'Télécharger Outlook pour iOS',
      'Sent from Yahoo Mail for iPhone',
      'Provenance : Courrier pour Windows',
    ]
    for (const footer of footers) {
      it(`cuts "${footer}" as the last line`, () => {
        assert.equal(cutAtSignature(`J'arrive.\n\n${footer}\n`), "J'arrive.")
      })
    }

    it('keeps such a line when text follows it', () => {
      const text = 'Sent from my iPhone\nPlease ignore the typos.'
      assert.equal(cutAtSignature(text), text)
    })

    it('keeps a sentence that only starts like a footer', () => {
      const text = 'Parcel sent from the depot at 9.'
      assert.equal(cutAtSignature(text), text)
    })

    it('cuts a footer left above the delimiter', () => {
      assert.equal(cutAtSignature('OK\nSent from my iPad\n-- \nJean'), 'OK')
    })
  })
  describe('more client footers', () => {
    const footers = [
      'Sent from Mailbox for iPhone',
      'Sent wirelessly from my BlackBerry device on the Bell network.',
      'Envoyé sans fil par mon terminal mobile BlackBerry sur le réseau de Bell.',
      'Enviado desde mi oficina móvil BlackBerry® de Telcel',
      'Sent from Mail for Windows 10',
      'Envoyé à partir de Courrier pour Windows 10',
      'Sent via the Samsung Galaxy S7, an AT&T 4G LTE smartphone',
      'Von meinem iPhone gesendet',
      'Inviato da iPhone',
      'Enviado do meu iPhone',
      'Verzonden vanaf mijn iPhone',
    ]
    for (const footer of footers) {
      it(`cuts "${footer}"`, () => {
        assert.equal(cutAtSignature(`On arrive.\n${footer}`), 'On arrive.')
      })
    }

    it('cuts two footers in a row, and one under a typed signature', () => {
      assert.equal(cutAtSignature('OK.\nSent from my BlackBerry\nEnvoyé de mon BlackBerry'), 'OK.')
      assert.equal(cutAtSignature('Parfait.\n\n-Léa.\n\nSent from my HTC smartphone!'), 'Parfait.')
    })

    it("cuts a carrier's footer between two rules", () => {
      const text =
        "On my way.\n\n-------------\nSent via Bell Mobility's Text Messaging service.\n" +
        'Envoyé par le service de messagerie texte de Bell Mobilité.\n-------------'
      assert.equal(cutAtSignature(text), 'On my way.')
    })

    it('keeps a sentence that starts like a footer', () => {
      const text =
        'Voici le devis.\n\nSent from my desk at the office, where the printer works better.'
      assert.equal(cutAtSignature(text), text)
    })
  })

  describe('mailing-list footers', () => {
    it('cuts the rule and the list footer under it', () => {
      const text =
        'Is the build broken?\n\n_______________________________________________\n' +
        'ops-team mailing list\nops-team@lists.example.org\n' +
        'https://lists.example.org/mailman/listinfo/ops-team'
      assert.equal(cutAtSignature(text), 'Is the build broken?')
    })

    it('cuts a French unsubscribe footer', () => {
      const text =
        'La réunion est à 10h.\n-----\nPour vous désabonner, écrivez à liste-off@example.fr'
      assert.equal(cutAtSignature(text), 'La réunion est à 10h.')
    })

    it('keeps a rule above ordinary text', () => {
      const text = 'Ordre du jour\n_____\nBudget\nPlanning des congés'
      assert.equal(cutAtSignature(text), text)
    })
  })

  describe('sign-off and name', () => {
    const cases: Array<[string, string, string]> = [
      ['English, name under it', 'Can you call me back?\n\nThanks!\nMarc', 'Can you call me back?'],
      ['a blank line between', 'The parcel is here.\n\nregards\n\nJohn Doe', 'The parcel is here.'],
      ['with a title', 'Done.\n\nBest regards,\nAnna Smith\nHead of Sales', 'Done.'],
      ['sign-off alone', 'The van leaves at 8.\n\nCheers', 'The van leaves at 8.'],
      ['name on the same line', 'The van leaves at 8.\nCheers, Anna', 'The van leaves at 8.'],
      [
        'carried to a comma',
        'Sent the file.\n\nThanks again for your help,\nTom',
        'Sent the file.',
      ],
      ['French', 'Le colis est arrivé.\n\nCordialement,\nJean Dupont', 'Le colis est arrivé.'],
      ['French, "Bien à vous"', 'Je passe à 17h.\n\nBien à vous,\nSophie', 'Je passe à 17h.'],
      [
        'French, "Bonne journée"',
        'Rendez-vous confirmé.\nBonne journée !\nMarie',
        'Rendez-vous confirmé.',
      ],
      [
        'French, "Merci d\'avance"',
        'Pouvez-vous rappeler ?\n\nMerci d’avance,\nLuc',
        'Pouvez-vous rappeler ?',
      ],
      ['German', 'Termin bestätigt.\n\nMit freundlichen Grüßen\nHans Müller', 'Termin bestätigt.'],
      ['Spanish', 'Llego a las 5.\n\nSaludos,\nAna', 'Llego a las 5.'],
      ['Dutch', 'Ik kom om 5 uur.\n\nMet vriendelijke groet,\nPieter', 'Ik kom om 5 uur.'],
      [
        'one short line between sign-off and name',
        'Please review.\n\nThanks in advance,\nwritten on the train\nBob',
        'Please review.',
      ],
    ]
    for (const [what, text, expected] of cases) {
      it(what, () => assert.equal(cutAtSignature(text), expected))
    }

    it('never starts at the first line', () => {
      assert.equal(
        cutAtSignature('Thanks,\n\nthe van is here\n\nregards\n\nJohn Doe'),
        'Thanks,\n\nthe van is here',
      )
      assert.equal(cutAtSignature('Merci\nJean'), 'Merci\nJean')
      assert.equal(cutAtSignature('Cordialement,'), 'Cordialement,')
    })

    it('keeps a sentence that contains a sign-off word', () => {
      for (const text of [
        'OK for Monday.\nThanks for the update, I will call Bob.',
        'Bien reçu.\nMerci de me rappeler demain.',
        'Noted.\nBest price wins',
      ]) {
        assert.equal(cutAtSignature(text), text)
      }
    })

    it('stops at a sentence or a long line under the sign-off', () => {
      const sentence = 'Parfait.\n\nMerci,\nJe vous rappelle demain.'
      assert.equal(cutAtSignature(sentence), sentence)
      const long =
        'Call me.\n\nThanks in advance,\n' +
        'I am on the road all day today but I will read my messages tonight\nBob'
      // The name alone on the last line, just under the sign-off, still goes.
      assert.equal(cutAtSignature(long), long.slice(0, long.lastIndexOf('\n')))
    })

    it('stops at more than two plain lines in a row', () => {
      const text = 'Hi\n\nThanks,\nwe could meet on\nmonday or tuesday\nafter lunch\nBob'
      assert.equal(cutAtSignature(text), text)
    })

    it('keeps a P.S. under the name, without the signature', () => {
      assert.equal(
        cutAtSignature('Merci !\n\nCordialement,\nJean\n\nPS : le code est 1234'),
        'Merci !\n\nPS : le code est 1234',
      )
      assert.equal(
        cutAtSignature('Got it.\nCheers,\nAnna\nP.S. bring the keys'),
        'Got it.\n\nP.S. bring the keys',
      )
    })
  })

  describe('dash signatures', () => {
    for (const [text, expected] of [
      ['See you at six.\n---\nMarc', 'See you at six.'],
      ['Got it!\n-marc', 'Got it!'],
      ['Salut !\n\n- Jean-Marc', 'Salut !'],
      ['Parfait.\n\n-Léa.', 'Parfait.'],
      ['On se voit demain.\n——\nClaire Martin\n06 12 34 56 78', 'On se voit demain.'],
    ]) {
      it(`cuts ${JSON.stringify(text)}`, () => assert.equal(cutAtSignature(text), expected))
    }

    it('keeps list items', () => {
      for (const text of [
        'Courses :\n- lait\n- pain',
        'Options\n   - the red one\n   - and the blue',
        'To bring:\n- sandwiches',
        'Tarifs\n---\n-- voir plus bas\n- item',
      ]) {
        assert.equal(cutAtSignature(text), text)
      }
    })
  })

  describe('contact blocks', () => {
    it('cuts a name over phone, email and web address', () => {
      const text =
        'The quote is attached.\n\nNadia Rossi\nnadia@example.com\n+33 4 72 00 00 00\nwww.example.com'
      assert.equal(cutAtSignature(text), 'The quote is attached.')
    })

    it('cuts a French block with an address and a phone number', () => {
      const text =
        'Les résultats sont prêts.\n\nDr Claire Moreau - Médecin\n12 rue des Lilas, 69003 Lyon\nTél. 04 00 00 00 00'
      assert.equal(cutAtSignature(text), 'Les résultats sont prêts.')
    })

    it('cuts a name over "via mobile"', () => {
      assert.equal(cutAtSignature('On my way.\n\nKarim Benali\nvia mobile'), 'On my way.')
    })

    it('keeps contact details the message gives', () => {
      for (const text of [
        'Please call the plumber:\n\nJean Dupont\n06 12 34 56 78\njean@example.fr',
        'Le numéro du livreur\n\nPaul Martin\n06 98 76 54 32',
        'Bonjour,\n\nRDV 10h.\n\nMarie Curie',
        'Here are the docs.\n\nhttps://example.com/a\nhttps://example.com/b',
        'The plan is ready.\n\nProject Plan\nhttps://example.com/plan',
      ]) {
        assert.equal(cutAtSignature(text), text)
      }
    })
  })

  describe('bounded work', () => {
    it('reads only the end of a long message', () => {
      const lines = Array.from({ length: 200_000 }, (_, i) => (i % 2 ? 'Jean Dupont' : 'Merci,'))
      const started = Date.now()
      const cut = cutAtSignature(['Bonjour', ...lines, 'Fin du message.'].join('\n'))
      assert.ok(cut.endsWith('Fin du message.'))
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`)
    })

    it('handles a megabyte line at the end quickly', () => {
      const started = Date.now()
      const text = `Hi\nThanks,\n${'- a'.repeat(350_000)}`
      assert.equal(cutAtSignature(text), text)
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`)
    })
  })
})
