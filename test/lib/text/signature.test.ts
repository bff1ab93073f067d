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
})
