import assert from 'node:assert/strict'
import { stripQuotedReply } from '../../../lib/text/reply'

describe('stripQuotedReply', () => {
  it('returns a message without quotes as it is', async () => {
    const text = 'Bonjour,\n\nLivraison demain 8h.\n\nMerci'
    assert.equal(await stripQuotedReply(text), text)
  })

  it('accepts CRLF line ends', async () => {
    assert.equal(await stripQuotedReply('Oui\r\n\r\n> Tu viens ?\r\n'), 'Oui')
  })

  it('reads Unicode line separators as line ends, so the quote after one goes', async () => {
    assert.equal(await stripQuotedReply('Oui\u2028> Tu viens ?'), 'Oui')
    assert.equal(await stripQuotedReply('\u2028> Tu viens ?\u2029Oui'), 'Oui')
  })

  it('drops quoted lines indented with non-breaking spaces', async () => {
    assert.equal(await stripQuotedReply('Oui\n\u00a0\u202f> Tu viens ?'), 'Oui')
  })

  describe('> quotes', () => {
    it('drops quoted lines under the answer', async () => {
      assert.equal(
        await stripQuotedReply('Oui, 9h.\n\n> Tu viens demain ?\n> Réponds vite'),
        'Oui, 9h.',
      )
    })

    it('keeps answers written between quotes', async () => {
      const text = '> Heure ?\nDix heures.\n> Lieu ?\nAu dépôt.'
      assert.equal(await stripQuotedReply(text), 'Dix heures.\n\nAu dépôt.')
    })

    it('drops quoted lines indented by the client', async () => {
      assert.equal(await stripQuotedReply('Oui.\n  > ancien\n  >> plus ancien'), 'Oui.')
    })

    it('returns empty when everything is quoted', async () => {
      assert.equal(await stripQuotedReply('> a\n>\n> b'), '')
    })
  })

  describe('attribution lines', () => {
    it('drops "On … wrote:" wrapped over two lines', async () => {
      const text =
        'See you at 8.\n\nOn Mon, Mar 3, 2025 at 10:12\u202fAM SMS +44 7700 900123 <\n' +
        '447700900123@sms.example.com> wrote:\n\n> Late, sorry!\n'
      assert.equal(await stripQuotedReply(text), 'See you at 8.')
    })

    it('drops "Le … a écrit :" wrapped before "écrit"', async () => {
      const text =
        'Je confirme.\n\nLe lun. 3 mars 2025 à 10:12, SMS +33 6 12 34 56 78 <33612345678@sms.example.com> a\n' +
        '\u00e9crit\u00a0:\n\n> Confirmez-vous ?\n'
      assert.equal(await stripQuotedReply(text), 'Je confirme.')
    })

    it('drops an attribution wrapped over three lines', async () => {
      const text = 'Ok.\nLe 03/03/2025 à 10:12,\nJean Dupont\na écrit :\n> Question'
      assert.equal(await stripQuotedReply(text), 'Ok.')
    })

    it('keeps interleaved answers after an attribution', async () => {
      const text =
        'Bonjour,\n\nOn Mon, 3 Mar 2025, Jean wrote:\n> Heure ?\nDix heures.\n> Lieu ?\nAu dépôt.'
      assert.equal(await stripQuotedReply(text), 'Bonjour,\n\nDix heures.\n\nAu dépôt.')
    })

    it('does not join a finished sentence to the next line to make an attribution', async () => {
      const reply = await stripQuotedReply(
        'Bonjour.\nLe 3 mars on livre.\nJean a écrit :\nmerci de confirmer',
      )
      assert.match(reply, /^Bonjour\.\nLe 3 mars on livre\.\sJean a écrit :\nmerci de confirmer$/)
    })

    it('cuts at an attribution followed by unquoted history', async () => {
      const text = 'Oui.\n\nLe 03/03/2025 à 10:12, Jean Dupont a écrit :\nTu viens ?\n'
      assert.equal(await stripQuotedReply(text), 'Oui.')
    })

    it('keeps a sentence that only looks like an attribution: no date in it', async () => {
      const text = 'Note :\nLe patient a écrit :\ndouleur au genou depuis lundi'
      assert.equal(await stripQuotedReply(text), text)
    })
  })

  describe('attributions in other shapes and languages', () => {
    const cases: Array<[string, string]> = [
      [
        'Dutch, verb before the name',
        'Prima.\n\nOp 3-3-2025 10:12 schreef Piet <piet@example.nl>:\n\nOud bericht',
      ],
      [
        'Dutch, long form',
        'Prima.\n\nOp 3 mrt. 2025, om 10:12 heeft Piet <piet@example.nl> het volgende geschreven:\n\nOud',
      ],
      [
        'Swedish',
        'Bra.\nDen 3 mars 2025 10:12, Sven (sven@example.se) skrev:\n\nGammalt meddelande',
      ],
      [
        'Norwegian',
        'Bra.\nPå 3. mars 2025 på 10:12, Ola (ola@example.no) skrev:\n\nGammel melding',
      ],
      ['German', 'Gut.\n\nAm 03.03.2025 um 10:12 schrieb Hans <hans@example.de>:\n> Alt'],
      [
        'Spanish',
        'Vale.\n\nEl lun, 3 mar 2025 a las 10:12, Ana (<ana@example.es>) escribió:\n> Viejo',
      ],
      [
        'Russian, date first',
        'Да.\n03.03.2025 10:12 пользователь "ivan@example.ru" <\nivan@example.ru> написал:\n\n> Старое',
      ],
      ['Vietnamese', 'Vâng.\n\nVào 10:12 3 tháng 3, 2025, Lan <lan@example.vn> đã viết:\n\n> Cũ'],
      [
        '"sent:" with an address',
        'OK.\n\nOn 3-Mar-2025, at 10:12, Bob <bob@example.com> sent:\n\n> Old',
      ],
      [
        'Gmail, date then address',
        'OK.\n\n2025-03-03 10:12 GMT+01:00 Bob <\nbob@example.com>:\n\n> Old',
      ],
      ['date then address, no colon', 'OK.\n2025/3/3 Bob <bob@example.com>\n\n> Old'],
      ['name and address only, above quotes', 'OK.\n\nBob Smith <bob@example.com> wrote:\n> Old'],
      [
        'broken around the address, blank lines and all',
        'OK.\n\nOn Mon, Mar 3, 2025 at 10:12 AM Bob\n\n<\nmailto:Bob <bob@example.com>\n> wrote:\nOld text',
      ],
      ['Android rule', 'OK.\n\n---- Bob Smith wrote ----\n\n> Old'],
    ]
    for (const [name, text] of cases) {
      it(`drops the history under it: ${name}`, async () => {
        assert.equal(await stripQuotedReply(text), text.split('\n')[0])
      })
    }

    const histories: Array<[string, string]> = [
      ['Apple Mail', 'On Mar 3, 2025, at 10:12, Jean <jean@example.com> wrote:'],
      ['Gmail in French', 'Le lun. 3 mars 2025 à 10:12, Jean <jean@example.fr> a écrit :'],
      ['Thunderbird in French', 'Le 03/03/2025 à 10:12, Jean Dupont a écrit :'],
      ['Italian', 'Il giorno lun 3 mar 2025 alle ore 10:12 Mario <mario@example.it> ha scritto:'],
      ['Portuguese', 'Em seg., 3 de mar. de 2025 às 10:12, João <joao@example.pt> escreveu:'],
      ['Polish', 'W dniu 3.03.2025 o 10:12, Jan <jan@example.pl> pisze:'],
      ['Czech, verb before the name', 'Dne 3. 3. 2025 10:12 napsal Jan <jan@example.cz>:'],
      ['Finnish, verb before the date', 'Jan <jan@example.fi> kirjoitti 3.3.2025 kello 10.12:'],
      ['Romanian', 'Pe lun., 3 mar. 2025 la 10:12, Ion <ion@example.ro> a scris:'],
      ['Turkish', '3 Mar 2025 Pzt, 10:12 tarihinde Ali <ali@example.com.tr> şunu yazdı:'],
      ['Japanese, no verb', '2025年3月3日(月) 10:12 Taro <taro@example.jp>:'],
      ['Chinese, full-width colon', '在 2025年3月3日 10:12，Li <li@example.cn> 写道：'],
    ]
    for (const [name, attribution] of histories) {
      it(`cuts at an attribution above unquoted history: ${name}`, async () => {
        assert.equal(
          await stripQuotedReply(`Réponse.\n\n${attribution}\nAncien message`),
          'Réponse.',
        )
      })
    }

    it("keeps the reply written on the attribution's line", async () => {
      assert.equal(
        await stripQuotedReply(
          'Fine by me On Mon, Mar 3, 2025 at 10:12 AM, bob@example.com wrote:\n> Ok?',
        ),
        'Fine by me',
      )
      assert.equal(
        await stripQuotedReply(
          'Yes\nsee you--- On Mon, Mar 3, 2025, bob@example.com wrote:\n> Ok?',
        ),
        'Yes\nsee you',
      )
    })

    it('keeps a sentence ending in "wrote:" when no quote or history sign follows', async () => {
      const text = 'Call me at 5, as Bob wrote:\nthe meeting is moved to room 4'
      assert.equal(await stripQuotedReply(text), text)
    })
  })

  describe('quote marks', () => {
    it('keeps a ">>> link <<<" banner, which is not a quote', async () => {
      const text = 'Visit us.\n>>> https://example.com <<<\nSee you'
      assert.equal(await stripQuotedReply(text), text)
    })

    it('drops the unquoted piece of a quoted link the client wrapped', async () => {
      const text =
        'Done.\n\nOn Mon, 3 Mar 2025, Bob wrote:\n> See (https://example.com/a?b\n_token=3dd518)\n>\n' +
        ' (https://example.com/c/YzOT) >\n> end'
      assert.equal(await stripQuotedReply(text), 'Done.')
    })

    it('keeps a short answer between quotes even without blank lines', async () => {
      assert.equal(await stripQuotedReply('> Time?\nTen.\n> Place?'), 'Ten.')
    })
  })

  describe('Outlook history', () => {
    it('cuts at -----Original Message-----', async () => {
      const text =
        'Yes.\n\n-----Original Message-----\nFrom: Alice <alice@example.com>\nSent: Monday\n\nOld\n\nRegards,\nAlice'
      assert.equal(await stripQuotedReply(text), 'Yes.')
    })

    it("cuts at -----Message d'origine-----", async () => {
      assert.equal(
        await stripQuotedReply("Oui.\n-----Message d'origine-----\nDe : Jean\nAncien"),
        'Oui.',
      )
    })

    it('cuts at a From / Sent / To block without separator, names without addresses', async () => {
      const text =
        'Done.\n\nFrom: Alice Martin\nSent: Monday, March 3, 2025 9:14 AM\nTo: Tom Baker\nSubject: Job\n\nOld'
      assert.equal(await stripQuotedReply(text), 'Done.')
    })

    it('cuts at a French De / Envoyé / À / Objet block and its underscore rule', async () => {
      const text =
        'Noté.\n\n________________________________\nDe\u00a0: Jean Dupont\nEnvoyé\u00a0: lundi 3 mars 2025 10:12\n' +
        'À\u00a0: Sophie\nObjet\u00a0: Dossier\n\nAncien message'
      assert.equal(await stripQuotedReply(text), 'Noté.')
    })

    const blocks: Array<[string, string]> = [
      [
        'German',
        'Von: hans@example.de\nGesendet: Montag, 3. März 2025 10:12\nAn: Eva\nBetreff: Termin',
      ],
      ['Danish', 'Fra: ole@example.dk\nSendt: 3. marts 2025 10:12\nTil: Eva\nEmne: Møde'],
      [
        'Swedish',
        'Från: Sven [mailto:sven@example.se]\nSkickat: den 3 mars 2025 10:12\nTill: Eva\nÄmne: SV: Möte',
      ],
      ['starting with Date', 'Date: Mon, 3 Mar 2025 10:12:00 +0100\nTo: eva@example.com'],
      [
        'bold, wrapped',
        '  *From:* bob@example.com [mailto:\n  bob@example.com]\n  *Sent:* Monday, March 3, 2025 10:12 AM\n  *To:* eva@example.com',
      ],
    ]
    for (const [name, block] of blocks) {
      it(`cuts at a header block: ${name}`, async () => {
        assert.equal(await stripQuotedReply(`Noted.\n\n${block}\n\nOld message`), 'Noted.')
      })
    }

    it('keeps a note with a date and an audience, which is not a header block', async () => {
      const text = 'Meeting:\nDate: Monday 3 March, 10:00\nTo: all drivers\nBring your badge.'
      assert.equal(await stripQuotedReply(text), text)
    })

    it('cuts at "-----Original Message-----" rules in other languages', async () => {
      for (const rule of [
        '-----Reply Message-----',
        '-----Ursprüngliche Nachricht-----',
        '-----Oprindelig meddelelse-----',
        '-----Mensaje original-----',
      ]) {
        assert.equal(await stripQuotedReply(`Ok.\n\n${rule}\n\nOld`), 'Ok.', rule)
      }
    })

    it('does not take one "From:" line for a header block', async () => {
      const text = 'From: the depot, 3 pallets.\nCall me.'
      assert.equal(await stripQuotedReply(text), text)
    })

    it('keeps a forwarded message, which the sender chose to send', async () => {
      const text =
        'FYI\n\n---------- Forwarded message ---------\nFrom: Alerts <alerts@example.com>\n' +
        'Date: Mon, 3 Mar 2025 at 10:12\nSubject: Disk\nTo: <ops@example.com>\n\nDisk full on srv1'
      assert.equal(await stripQuotedReply(text), text)
    })
  })

  describe('long lines', () => {
    it('gives back a very long line whole, in reasonable time', async () => {
      const paragraph = 'On ' + 'the 1st floor '.repeat(15_000)
      const text = `Note\n${paragraph}\nEnd`
      const started = Date.now()
      assert.equal(await stripQuotedReply(text), text.trim())
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
    })

    it('reads a megabyte of lines built to look almost like quote headers in linear time', async () => {
      const shapes = [
        `On 1 ${'a@'.repeat(190)}\n> q\n`,
        `2025-01-01 ${'x<'.repeat(190)}\n\n<\n`,
        `From: a@example.com\n${'x'.repeat(70)}\n`,
        `${'-'.repeat(150)} wrote\n`,
        `${'x On '.repeat(80)}1 wrote:\n> q\n`,
      ]
      for (const shape of shapes) {
        const text = shape.repeat(Math.ceil(1_000_000 / shape.length))
        const started = Date.now()
        await stripQuotedReply(text)
        assert.ok(Date.now() - started < 3_000, `${shape.slice(0, 20)}: ${Date.now() - started} ms`)
      }
    })

    it('copes with long runs of blank lines, keeping one', async () => {
      const started = Date.now()
      assert.equal(await stripQuotedReply(`a${'\n \t'.repeat(200_000)}\nb`), 'a\n\nb')
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
    })

    it('still drops a long quoted line', async () => {
      assert.equal(await stripQuotedReply(`Oui.\n\n> ${'a'.repeat(5000)}\n> fin`), 'Oui.')
    })
  })

  describe("what the parser's sign-off list would drop", () => {
    it('keeps the sign-off, the name and a P.S.', async () => {
      const text = 'Merci !\n\nCordialement,\nJean\n\nPS : le code est 1234'
      assert.equal(await stripQuotedReply(text), text)
    })

    it('never returns empty when the sender wrote something', async () => {
      assert.equal(await stripQuotedReply('Cheers!'), 'Cheers!')
      const headerLike =
        'From: Warehouse <wh@example.com>\nDate: today\nTo: drivers\n\nDock 4 closed'
      assert.equal(await stripQuotedReply(headerLike), headerLike)
    })

    it("drops the quoted message's own sign-off", async () => {
      const text =
        'Top\n\nEl lun, 3 mar 2025 a las 10:12, Jean (<j@example.com>) escribió:\n\nViejo\n\nCheers,\nJean'
      assert.equal(await stripQuotedReply(text), 'Top')
    })
  })
})
