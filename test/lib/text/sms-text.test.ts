import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type { ParsedMail } from 'mailparser'
import { parseEmail } from '../../../lib/mail/parse'
import { emailToSmsText, type SmsText } from '../../../lib/text/sms-text'

const load = (name: string): Promise<ParsedMail> =>
  parseEmail(fs.readFileSync(path.join(__dirname, '../../fixtures/mail', name)))

interface Case {
  fixture: string
  marker?: string
  expected: SmsText
}

// The exact SMS each fixture gives: any change in the pipeline shows up here.
const CASES: Case[] = [
  {
    fixture: 'plain-ascii.eml',
    expected: {
      source: 'text',
      text:
        'Hi Paul,\n\nThe van will reach your site between 2pm and 4pm today.\n' +
        'Please make sure someone can sign for the pallets.',
    },
  },
  {
    fixture: 'fr-qp-utf8.eml',
    expected: {
      source: 'text',
      text:
        'Bonjour Mme Lefèvre,\n\nVotre rendez-vous est confirmé pour jeudi 6 mars à 14h30, au cabinet ' +
        "de la rue Garibaldi. Merci de vous présenter à l'accueil dix minutes avant.\n" +
        'Nous serons prêts à vous recevoir : pensez à votre carte Vitale.',
    },
  },
  {
    fixture: 'fr-qp-latin1.eml',
    expected: {
      source: 'text',
      text:
        'Bonjour M. Caron,\n\nLe garage vous informe que votre véhicule est prêt.\n' +
        'Vous pouvez le récupérer dès demain, de 8h à 18h.\n' +
        'Montant à régler : 245,90 EUR (révision + plaquettes).\n\nGarage Ça Roule',
    },
  },
  {
    fixture: 'base64.eml',
    expected: {
      source: 'text',
      text: 'Rappel : la réunion de chantier est décalée à 11h.\nSalle B, 2e étage, bâtiment Est.',
    },
  },
  {
    fixture: 'html-only.eml',
    expected: {
      source: 'html',
      text:
        'Changement de planning\n\nBonjour Karim,\n\n' +
        'Votre tournée de demain commence à 6 h 30 au dépôt de Vénissieux :\n' +
        "- Lyon 3e - 12 colis\n- Bron - 7 colis\n\nL'équipe planning",
    },
  },
  {
    fixture: 'alternative.eml',
    expected: {
      source: 'text',
      text: "Le portail principal sera fermé samedi.\nPassez par l'entrée de la rue Pasteur, le code est 4521.",
    },
  },
  {
    fixture: 'outlook-reply.eml',
    expected: {
      source: 'text',
      text: "Yes, 10am works for me. I'll bring the signed contract.",
    },
  },
  {
    fixture: 'outlook-reply.eml',
    marker: 'Tom Baker',
    expected: {
      source: 'text',
      text: "Yes, 10am works for me. I'll bring the signed contract.",
    },
  },
  {
    fixture: 'outlook-fr-reply.eml',
    expected: {
      source: 'text',
      text: "Bonjour,\n\nC'est noté, je passe récupérer le dossier à 17h.",
    },
  },
  {
    fixture: 'outlook-fr-reply.eml',
    marker: 'Bien à vous,',
    expected: {
      source: 'text',
      text: "Bonjour,\n\nC'est noté, je passe récupérer le dossier à 17h.",
    },
  },
  {
    fixture: 'gmail-reply-en.eml',
    expected: { source: 'text', text: 'Perfect, see you at the gate at 8.' },
  },
  {
    fixture: 'gmail-reply-fr.eml',
    expected: { source: 'text', text: 'Oui, je confirme pour demain 9h. Merci !' },
  },
  {
    fixture: 'apple-reply.eml',
    expected: { source: 'text', text: "I'm on my way, 15 minutes." },
  },
  {
    fixture: 'signature-dashes.eml',
    expected: {
      source: 'text',
      text:
        'Hello,\n\nThe gas delivery is confirmed for Thursday morning. ' +
        'The driver will call 30 minutes before arriving.',
    },
  },
  {
    fixture: 'signature-custom.eml',
    marker: 'Dr Claire Moreau',
    expected: {
      source: 'text',
      text:
        'Bonjour,\n\nLes résultats de votre analyse sont disponibles. ' +
        'Merci de rappeler le cabinet pour fixer un rendez-vous.',
    },
  },
  {
    fixture: 'signature-custom.eml',
    expected: {
      source: 'text',
      text:
        'Bonjour,\n\nLes résultats de votre analyse sont disponibles. ' +
        'Merci de rappeler le cabinet pour fixer un rendez-vous.',
    },
  },
  {
    fixture: 'typography.eml',
    expected: {
      source: 'text',
      text:
        'Rappel : la "Journée portes ouvertes" a lieu samedi 15 mars - de 9 h à 17 h.\n' +
        'Le directeur l\'a dit : "venez nombreux"...\n- Parking gratuit\n- Café offert - dans le hall\n' +
        "Prix : 12 € (tarif 'réduit' -20 %)",
    },
  },
  {
    fixture: 'auto-reply.eml',
    expected: {
      source: 'text',
      text: "Je suis absent jusqu'au 10 mars. Pour toute urgence, contactez l'accueil.",
    },
  },
  {
    fixture: 'bulk.eml',
    expected: {
      source: 'text',
      text: 'Spring sale starts today: 20% off everything until Sunday.',
    },
  },
  {
    fixture: 'dsn.eml',
    expected: {
      source: 'text',
      text:
        'This is the mail system at host mail.example.com.\n\n' +
        "I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n" +
        '<nobody@example.org>: host mx.example.org[203.0.113.200] said: 550 5.1.1\n' +
        'User unknown (in reply to RCPT TO command)\n\n' +
        'Reporting-MTA: dns; mail.example.com\nX-Postfix-Queue-ID: 5D2F31A0C4\n' +
        'Arrival-Date: Mon, 3 Mar 2025 13:30:40 +0100 (CET)\n\n' +
        'Final-Recipient: rfc822; nobody@example.org\nAction: failed\nStatus: 5.1.1\n' +
        'Remote-MTA: dns; mx.example.org\nDiagnostic-Code: smtp; 550 5.1.1 User unknown',
    },
  },
  {
    fixture: 'subject-only.eml',
    expected: {
      source: 'subject',
      text: 'ALERTE : onduleur salle 1 sur batterie - autonomie 12 min',
    },
  },
  {
    fixture: 'empty.eml',
    expected: { source: 'text', text: '' },
  },
]

describe('emailToSmsText', () => {
  describe('fixtures', () => {
    for (const { fixture, marker, expected } of CASES) {
      const title = marker ? `${fixture} with marker "${marker}"` : fixture
      it(title, async () => {
        assert.deepEqual(
          await emailToSmsText(await load(fixture), { signatureMarker: marker }),
          expected,
        )
      })
    }

    it('covers every fixture', () => {
      const covered = new Set(CASES.map((c) => c.fixture))
      const all = fs
        .readdirSync(path.join(__dirname, '../../fixtures/mail'))
        .filter((f) => f.endsWith('.eml'))
      assert.deepEqual(
        all.filter((f) => !covered.has(f)),
        [],
      )
    })
  })

  describe('HTML part of the replies', () => {
    // Same SMS from the HTML alone: what a client sending HTML only would give.
    for (const fixture of [
      'outlook-reply.eml',
      'outlook-fr-reply.eml',
      'gmail-reply-en.eml',
      'gmail-reply-fr.eml',
    ]) {
      it(fixture, async () => {
        const mail = await load(fixture)
        const fromText = await emailToSmsText(mail)
        const fromHtml = await emailToSmsText({ ...mail, text: undefined })
        assert.equal(fromHtml.source, 'html')
        assert.equal(fromHtml.text, fromText.text)
      })
    }
  })

  describe('choosing the body', () => {
    it('reads the HTML of a text/html message even when text holds a conversion', async () => {
      const mail = await load('html-only.eml')
      const result = await emailToSmsText({ ...mail, text: 'CHANGEMENT DE PLANNING [logo.png]' })
      assert.equal(result.source, 'html')
      assert.match(result.text, /^Changement de planning\n\nBonjour Karim,/)
    })

    it('prefers the text part of multipart/alternative', async () => {
      const result = await emailToSmsText(await load('alternative.eml'))
      assert.equal(result.source, 'text')
      assert.doesNotMatch(result.text, /Version HTML/)
    })
  })

  describe('tidying', () => {
    const mailWithText = (text: string): ParsedMail => ({
      attachments: [],
      headers: new Map(),
      headerLines: [],
      text,
    })

    it('counts a line holding only invisible characters as blank', async () => {
      const result = await emailToSmsText(mailWithText('Un\n\n\u200b\u00a0\n\nDeux'))
      assert.equal(result.text, 'Un\n\nDeux')
    })

    it('cuts at the marker before mapping typography, matching either spelling', async () => {
      const result = await emailToSmsText(
        mailWithText('Rappel demain.\nL\u2019\u00e9quipe Planning\nTel'),
        {
          signatureMarker: "L'équipe Planning",
        },
      )
      assert.equal(result.text, 'Rappel demain.')
    })
  })

  describe('subject fallback', () => {
    it('uses the Subject when nothing is left of the body', async () => {
      const mail = await load('signature-custom.eml')
      assert.deepEqual(await emailToSmsText(mail, { signatureMarker: 'Bonjour,' }), {
        source: 'subject',
        text: 'Résultats disponibles',
      })
    })

    it('uses the Subject when the body is nothing but a signature', async () => {
      const mail = await load('subject-only.eml')
      assert.deepEqual(await emailToSmsText({ ...mail, text: '-- \nJeanne Martin\n' }), {
        source: 'subject',
        text: 'ALERTE : onduleur salle 1 sur batterie - autonomie 12 min',
      })
      assert.deepEqual(await emailToSmsText({ ...mail, text: '-- \nJeanne', subject: '' }), {
        source: 'text',
        text: '--\nJeanne',
      })
    })

    it('uses the Subject when the body was only quoted history', async () => {
      const mail = await load('gmail-reply-en.eml')
      const quotedOnly = { ...mail, text: '> Running late\n', html: false as const }
      assert.deepEqual(await emailToSmsText(quotedOnly), {
        source: 'subject',
        text: 'Re: SMS from +44 7700 900123',
      })
    })

    it('gives an empty text when there is no Subject either', async () => {
      const mail = await load('empty.eml')
      assert.equal(mail.subject, undefined)
      assert.equal((await emailToSmsText({ ...mail, subject: ' \u200b ' })).text, '')
    })
  })
})
