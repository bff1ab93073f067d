import assert from 'node:assert/strict'
import { SmsPreviewResult } from '../../admin/components/sms-preview'
import { analyseSms } from '../../lib/sms/segments'
import { previewSms } from '../../lib/text/preview'

const ACCOUNT = { signatureMarker: null, segmentCap: 20, gsmOnly: false }

/** The facts of each version shown (as written first, then in GSM when folding changed it). */
interface Shown {
  characters: number
  units: number
  segments: number
  perSegment: number
  size: string
  count: string
}

async function render(email: string, lang: 'fr' | 'en' = 'fr'): Promise<string> {
  const preview = previewSms(email, ACCOUNT)
  const state = { kind: 'result', preview } as const
  return String(await (<SmsPreviewResult lang={lang} state={state} />).toString())
}

function shown(html: string): Shown[] {
  const sizes = [...html.matchAll(/<dd data-characters="(\d+)" data-units="(\d+)">([^<]*)<\/dd>/g)]
  const counts = [
    ...html.matchAll(/<dd data-segments="(\d+)" data-per-segment="(\d+)">([^<]*)<\/dd>/g),
  ]
  assert.ok(sizes.length > 0, `no length shown in ${html}`)
  assert.equal(sizes.length, counts.length)
  return sizes.map((size, i) => ({
    characters: Number(size[1]),
    units: Number(size[2]),
    segments: Number(counts[i][1]),
    perSegment: Number(counts[i][2]),
    size: size[3],
    count: counts[i][3],
  }))
}

const a = (n: number) => 'a'.repeat(n)

// Each text with what its SMS costs, worked out by hand from 3GPP TS 23.038/23.040: 160/153
// septets (the extension characters € [ ] { } ^ ~ \ | cost two), 70/67 UTF-16 units (an emoji
// costs two), and a two-unit character never cut between two segments.
type Row = [
  what: string,
  text: string,
  encoding: 'GSM-7' | 'UCS-2',
  characters: number,
  units: number,
  segments: number,
  perSegment: number,
]

// prettier-ignore
const ROWS: Row[] = [
  ['plain GSM',                                  'Rendez-vous à 14h, salle B.',           'GSM-7',  27,  27, 1, 160],
  ['160 GSM septets: one SMS',                   a(160),                                  'GSM-7', 160, 160, 1, 160],
  ['161 GSM septets: two of 153',                a(161),                                  'GSM-7', 161, 161, 2, 153],
  ['extension characters, two septets each',     `${a(149)} 5 € [x]`,                     'GSM-7', 157, 160, 1, 160],
  ['one extension character too many',          `${a(155)} {x}`,                         'GSM-7', 159, 161, 2, 153],
  ['an escape at a segment border moves whole',  `${a(152)}€${a(152)}`,                   'GSM-7', 305, 306, 3, 153],
  ['French é è à ù stay GSM',                    "Livré à l'accueil, où vous préférez.",  'GSM-7',  36,  36, 1, 160],
  ['French ê ç make it UCS-2',                   'Votre fenêtre, le maçon.',              'UCS-2',  24,  24, 1,  70],
  ['70 UCS-2 units: one SMS',                    `ê${a(69)}`,                             'UCS-2',  70,  70, 1,  70],
  ['71 UCS-2 units: two of 67',                  `ê${a(70)}`,                             'UCS-2',  71,  71, 2,  67],
  ['68 characters, 71 units with emoji',         `ê${a(64)}😀😀😀`,                       'UCS-2',  68,  71, 2,  67],
  ['69 characters, 70 units with an emoji',      `${a(68)}👍`,                            'UCS-2',  69,  70, 1,  70],
  ['a surrogate pair at a border moves whole',   `ê${a(65)}😀${a(66)}`,                   'UCS-2', 133, 134, 3,  67],
]

const TABLE = ROWS.map(([what, text, encoding, characters, units, segments, perSegment]) => ({
  what,
  text,
  encoding,
  characters,
  units,
  segments,
  perSegment,
}))

describe('admin/components/sms-preview', () => {
  for (const row of TABLE) {
    it(`shows the units the limits count: ${row.what}`, async () => {
      const preview = previewSms(row.text, ACCOUNT)
      assert.equal(preview.written.text, row.text, 'the text must reach the SMS unchanged')
      const [written] = shown(await render(row.text))
      // What the page shows is what lib/sms/segments plans for the MX and the worker...
      const plan = analyseSms(row.text)
      assert.equal(plan.encoding === 'gsm7' ? 'GSM-7' : 'UCS-2', row.encoding)
      assert.deepEqual(
        [written.units, written.segments, written.perSegment],
        [plan.units, plan.segments, plan.unitsPerSegment],
      )
      // ...and what the standard says.
      assert.deepEqual(
        [written.characters, written.units, written.segments, written.perSegment],
        [row.characters, row.units, row.segments, row.perSegment],
      )
      const unit = row.encoding === 'GSM-7' ? 'GSM' : 'UCS-2'
      assert.equal(written.size, `${row.characters} caractères (${row.units} unités ${unit})`)
      assert.equal(written.count, `${row.segments} SMS de ${row.perSegment} unités ${unit} au plus`)
    })
  }

  it('never shows more units than one SMS holds beside "1 SMS", nor fewer beside several', async () => {
    for (const row of TABLE) {
      for (const version of shown(await render(row.text))) {
        if (version.segments === 1) assert.ok(version.units <= version.perSegment, row.what)
        else assert.ok(version.units > (version.perSegment === 153 ? 160 : 70), row.what)
      }
    }
  })

  it('says why a two-unit character at a border costs one more SMS, and only then', async () => {
    const border = await render(`ê${a(65)}😀${a(66)}`)
    assert.match(border, /n’est jamais coupé entre deux SMS/)
    assert.doesNotMatch(await render(`ê${a(70)}`), /jamais coupé/)
    assert.match(await render(`${a(152)}€${a(152)}`, 'en'), /is never cut between two SMS/)
  })

  it('counts the GSM version in septets too, beside the written one in UCS-2 units', async () => {
    // ê and ç fold to e and c; the € stays and costs two septets in the GSM version.
    const [written, gsm] = shown(await render('Fenêtre réparée : 120 € le maçon.'))
    assert.equal(written.size, '33 caractères (33 unités UCS-2)')
    assert.equal(gsm.size, '33 caractères (34 unités GSM)')
  })

  it('labels the units in English, singular and plural', async () => {
    const [version] = shown(await render('x', 'en'))
    assert.equal(version.size, '1 character (1 GSM unit)')
    assert.equal(version.count, '1 SMS of at most 160 GSM units')
    const [emoji] = shown(await render('ok 👍', 'en'))
    assert.equal(emoji.size, '4 characters (5 UCS-2 units)')
    const [french] = shown(await render('x'))
    assert.equal(french.size, '1 caractère (1 unité GSM)')
  })

  it('says what a unit is next to the limits', async () => {
    const html = await render('Votre fenêtre 👍')
    assert.match(html, /UCS-2 : 70 unités pour un SMS seul, 67 par SMS/)
    assert.match(html, /sauf les émojis et quelques caractères rares qui en comptent deux/)
    assert.match(await render('5 €'), /sauf € \[ \] \{ \} \^ ~ \\ \| qui en comptent deux/)
  })
})
