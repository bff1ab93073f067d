import assert from 'node:assert/strict'
import { getCountries } from 'libphonenumber-js/max'
import type { Db } from '../../lib/db/connection'
import { databaseKinds } from '../support/databases'
import { get, openSection, postForm, type AdminHarness } from './harness'

/**
 * The French pages with what the libraries, the database, the worker and lib/ say in English
 * behind them: every such message must reach the page in French. Free text from a carrier is
 * the exception, shown as a labelled quotation; it is taken out before the English is looked for.
 */

// Words and phrases of the English messages that lib/, the worker and the parsers write.
const ENGLISH = [
  'receipt',
  'undeliverable',
  'expired',
  'carrier',
  'not bound',
  'no response',
  'refused',
  'not sent',
  'earlier part',
  'encodable',
  'is not an e.164',
  'needs ',
  'no final',
  'host bits',
  'the network',
  'enter ',
  'every ipv',
  'interface suffix',
  'prefix length',
  'mixes',
  'would allow',
  'would cover',
  'allows at most',
  'is not an ip',
  'not a single',
  'comes after',
  'cannot go',
  'too long',
  'allowed destinations',
  'detail:',
]

/** What a reader (or a screen reader) gets of a page: its text, titles and labels. */
function visibleText(html: string): string {
  const labels = [...html.matchAll(/\s(?:title|aria-label|placeholder)="([^"]*)"/g)].map(
    (m) => m[1],
  )
  const text = html
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .concat(' ', labels.join(' '))
  return text
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
}

function assertNoEnglish(html: string, where: string, quoted: string[] = []): void {
  let text = visibleText(html)
  // Carrier text, shown on purpose, in quotes after its label.
  for (const q of quoted) {
    assert.ok(text.includes(q), `${where}: missing ${q}`)
    text = text.split(q).join(' ')
  }
  const lower = text.toLowerCase()
  const found = ENGLISH.filter((phrase) => lower.includes(phrase)).map((phrase) => {
    const at = lower.indexOf(phrase)
    return `${phrase}: …${text.slice(Math.max(0, at - 60), at + 60)}…`
  })
  assert.deepEqual(found, [], where)
}

let serial = 0

async function insertSms(
  db: Db,
  accountId: number,
  at: number,
  status: string,
  lastError: string,
  errorCode: number | null = null,
): Promise<number> {
  const n = ++serial
  const [id] = await db('outbound_sms').insert({
    account_id: accountId,
    sender_id: null,
    sender_email: 'alice@acme.test',
    recipient: '+33611111111',
    body: `Message ${n}`,
    encoding: 'gsm7',
    segments: 2,
    parts: 2,
    status,
    attempts: 1,
    next_attempt_at: at,
    last_error: lastError,
    error_code: errorCode,
    dedupe_key: `french-pages-${n}`,
    created_at: at,
    updated_at: at,
  })
  return Number(id)
}

// last_error as the worker writes it, and the French the log must show for it.
const RECORDED: Array<[status: string, lastError: string, code: number | null, french: string]> = [
  ['undeliverable', 'receipt: undeliverable', null, 'non distribuable d’après l’opérateur'],
  [
    'undeliverable',
    'receipt: undeliverable (error 012)',
    null,
    'non distribuable d’après l’opérateur — code d’erreur de l’opérateur : 012',
  ],
  [
    'undeliverable',
    'receipt: undeliverable (error Handset busy)',
    null,
    'non distribuable d’après l’opérateur — motif de l’opérateur : « Handset busy »',
  ],
  [
    'expired',
    'receipt: expired (error GSM:27)',
    null,
    'expiré avant remise — code d’erreur de l’opérateur : GSM:27',
  ],
  [
    'expired',
    'expired before the carrier accepted it',
    null,
    'expiré avant remise — l’opérateur ne l’a pas pris en charge à temps',
  ],
  [
    'expired',
    'expired: part 1/2: submit_sm got no response in 5000 ms',
    null,
    'expiré avant remise — dernier essai : l’opérateur n’a pas répondu à temps',
  ],
  [
    'partial',
    'receipt: partial (delivered parts 1 of 2) (error 005)',
    null,
    'remis en partie (2 parties) — code d’erreur de l’opérateur : 005',
  ],
  [
    'failed',
    'ESME_RINVDSTADR: part 1/2 refused: ESME_RINVDSTADR (0x0000000b)',
    0x0b,
    'refusé par l’opérateur (code 11) — numéro de destination invalide ou inconnu (ESME_RINVDSTADR)',
  ],
  [
    'failed',
    'ESME_RINVCMDLEN: part 1/2 refused: ESME_RINVCMDLEN (0x00000002)',
    2,
    'refusé par l’opérateur (code 2) — réponse de l’opérateur : ESME_RINVCMDLEN',
  ],
  [
    'failed',
    'destination +3361 is not an E.164 number',
    null,
    'refusé par l’opérateur — numéro de destination invalide',
  ],
  [
    'failed',
    'sender name "Boutique du coin" must be 1 to 11 printable ASCII characters',
    null,
    'refusé par l’opérateur — nom ou numéro d’expéditeur invalide',
  ],
  [
    'failed',
    'text needs 300 segments (max 255)',
    null,
    'refusé par l’opérateur — texte trop long : 300 SMS, 255 au plus',
  ],
  [
    'failed',
    'part 1/2 not encodable: value out of range',
    null,
    'refusé par l’opérateur — le texte n’a pas pu être encodé pour l’opérateur',
  ],
  [
    'failed',
    'connect ECONNREFUSED 127.0.0.1:2775',
    null,
    'refusé par l’opérateur — détail enregistré, non traduit : « connect ECONNREFUSED 127.0.0.1:2775 »',
  ],
  [
    'queued',
    'SMPP client is connecting, not bound',
    null,
    'nouvel essai prévu — pas de connexion à l’opérateur à ce moment-là',
  ],
  [
    'queued',
    'ESME_RTHROTTLED: part 1/2 refused: ESME_RTHROTTLED (0x00000058)',
    0x58,
    'nouvel essai prévu (code 88) — l’opérateur a demandé de ralentir (ESME_RTHROTTLED)',
  ],
  [
    'queued',
    'part 1/2: submit_sm: connection closed',
    null,
    'nouvel essai prévu — connexion à l’opérateur perdue pendant l’envoi',
  ],
  [
    'sending',
    'part 2/2 not sent: an earlier part was not taken',
    null,
    'nouvel essai prévu — non envoyé : une partie précédente n’a pas été prise en charge',
  ],
  [
    'queued',
    'part 1/2: deliver_sm_resp',
    null,
    'nouvel essai prévu — réponse inattendue de l’opérateur',
  ],
]

for (const kind of databaseKinds()) {
  describe(`admin: French pages say in French what lib/ says in English (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string

    before(async () => {
      ;({ h, cookie } = await openSection(kind, 'ips'))
      base = `/a/${h.accounts.acme.id}`
    })
    after(async () => h?.drop())

    it('the SMS log words every reason the worker records', async () => {
      const ids = new Map<number, string>()
      for (const [i, [status, lastError, code, french]] of RECORDED.entries()) {
        const id = await insertSms(
          h.db,
          h.accounts.acme.id,
          h.clock.now - (i + 1) * 60_000,
          status,
          lastError,
          code,
        )
        ids.set(id, french)
      }
      const html = await (await get(h.app, `${base}/messages`, cookie)).text()
      for (const [id, french] of ids) {
        const start = html.indexOf(`<tr id="sms-${id}"`)
        assert.ok(start >= 0, `row ${id}`)
        const row = visibleText(html.slice(start, html.indexOf('</tr>', start)))
        assert.ok(row.includes(french), `${french}\n in: ${row}`)
      }
      assertNoEnglish(html, 'SMS log', [
        '« Handset busy »',
        '« connect ECONNREFUSED 127.0.0.1:2775 »',
      ])
    })

    const IP_ENTRIES = [
      '10.0.0.5/8',
      '192.0.2.7/24',
      '2001:db8::1/32',
      '0.0.0.0/0',
      '::/0',
      '10.0.0.0/8',
      '10.0.0.0/33',
      '2001:db8::/129',
      'fe80::1%eth0',
      '::ffff:10.0.0.0/80',
      'mail.example.com',
      '192.168.1.20-192.168.1.1',
      '10.0.0.1 - ::1',
      '10.0.0.1-mail.example.com',
      '0.0.0.0-255.255.255.255',
      '10.0.0.0-10.1.0.0',
      '192.168.1.1-192.168.1.20',
    ]
    for (const address of IP_ENTRIES) {
      it(`the IP page refuses or proposes ${JSON.stringify(address)} in French`, async () => {
        const res = await postForm(h.app, `${base}/ips`, { address, note: '' }, { cookie })
        assert.ok([200, 400].includes(res.status))
        assertNoEnglish(await res.text(), address)
      })
    }

    it('the limits page says in French that a list of destinations is too long', async () => {
      await h.db('admins').where({ id: h.admins.alice.id }).update({ is_operator: true })
      const destinations = getCountries().join(', ')
      const res = await postForm(h.app, `${base}/limits`, { destinations }, { cookie })
      assert.equal(res.status, 400)
      const html = await res.text()
      assert.ok(
        visibleText(html).includes(
          `Cette liste de ${getCountries().length} destinations est trop longue (500 caractères au plus une fois rangée)`,
        ),
      )
      assertNoEnglish(html, 'limits')
    })
  })
}
