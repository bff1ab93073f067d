import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { accountPath } from '../account'
import { setFlash } from '../flash'
import { Field, FormError, PostButton, formText, formatDateTime } from '../components/form'
import { ValidationError } from '../../lib/db/accounts'
import { addAllowedIp, AllowlistTooWideError } from '../../lib/db/allowlist'
import { describeAddressCount, type CoverageExcess } from '../../lib/net/allowlist-coverage'
import {
  MAX_ALLOWLIST_NOTE,
  hasAllowedCidr,
  listAllowlistEntries,
  removeAllowedIpById,
  suggestSpfRecord,
  type AllowlistAdminEntry,
} from '../../lib/db/allowlist-admin'
import { parseAllowlistEntry } from '../../lib/net/allowlist'

const t = defineMessages(
  {
    title: 'Gestion des adresses IP',
    intro:
      "Les e-mails venant des serveurs de messagerie listés ici sont acceptés pour les utilisateurs de ce compte sans autre vérification. Indiquez l'adresse IP sortante de chaque serveur, ou une plage d'adresses (notation CIDR), en IPv4 comme en IPv6.",
    address: 'Adresse IP',
    note: 'Note',
    added: 'Ajoutée le',
    actions: 'Actions',
    none: "Aucune adresse IP n'est autorisée pour ce compte : les e-mails sont vérifiés par SPF.",
    remove: 'Effacer',
    removeLabel: (cidr: string) => `Effacer ${cidr}`,
    removed: (cidr: string) => `${cidr} n'est plus autorisée.`,
    addTitle: "Ajouter l'adresse IP",
    addressHint: 'Par exemple 203.0.113.7, 203.0.113.0/24 ou 2001:db8::/48.',
    noteHint: 'Facultatif : le serveur dont il s’agit, pour vous en souvenir.',
    save: 'Sauvegarder',
    addedFlash: (cidr: string) => `${cidr} est autorisée.`,
    invalid: (value: string) =>
      `« ${value} » n'est pas une adresse IP ni une plage CIDR acceptée (par exemple 203.0.113.7, 203.0.113.0/24 ou 2001:db8::/48).`,
    empty: 'Saisissez une adresse IP ou une plage CIDR.',
    detail: 'Détail :',
    duplicate: (cidr: string) => `${cidr} est déjà autorisée pour ce compte.`,
    noteTooLong: `La note fait au plus ${MAX_ALLOWLIST_NOTE} caractères.`,
    tooWide: (covered: string, limit: string) =>
      `Avec cette entrée, la liste couvrirait ${covered}, alors que l'opérateur en permet au plus ${limit}. Indiquez les adresses ou les plages de vos seuls serveurs de messagerie, ou comptez sur SPF.`,
    notSaved: "L'adresse n'a pas été ajoutée : corrigez le champ signalé.",
    spfTitle: 'Sans adresse IP autorisée : SPF',
    spfIntro:
      "Quand un e-mail ne vient d'aucune des adresses ci-dessus, la passerelle consulte l'enregistrement SPF du domaine de l'expéditeur (la partie après @ de son adresse) et n'accepte l'e-mail que si ce domaine déclare le serveur qui l'a envoyé.",
    spfRecord:
      "Le domaine de l'expéditeur peut publier cet enregistrement TXT, construit à partir des adresses de ce compte (remplacez votre-domaine.fr par le vôtre) :",
    spfExample:
      "Par exemple, avec une seule adresse de serveur (remplacez l'adresse et votre-domaine.fr par les vôtres) :",
    spfInclude:
      'Si votre messagerie est hébergée (Google Workspace, Microsoft 365…), ajoutez le mécanisme include: que votre fournisseur indique, par exemple :',
    spfOneRecord:
      "Un domaine ne doit avoir qu'un seul enregistrement SPF : s'il en a déjà un, ajoutez-y ces adresses plutôt que d'en créer un second.",
    smsDomains: 'Les e-mails sont adressés à <numéro>@',
  },
  {
    title: 'IP addresses',
    intro:
      'Email coming from the mail servers listed here is accepted for this account’s users without further checks. Enter the outgoing IP address of each server, or a range of addresses (CIDR notation), IPv4 or IPv6.',
    address: 'IP address',
    note: 'Note',
    added: 'Added',
    actions: 'Actions',
    none: 'No IP address is allowed for this account: email is checked with SPF.',
    remove: 'Delete',
    removeLabel: (cidr: string) => `Delete ${cidr}`,
    removed: (cidr: string) => `${cidr} is no longer allowed.`,
    addTitle: 'Add an IP address',
    addressHint: 'For example 203.0.113.7, 203.0.113.0/24 or 2001:db8::/48.',
    noteHint: 'Optional: which server this is, as a reminder.',
    save: 'Save',
    addedFlash: (cidr: string) => `${cidr} is allowed.`,
    invalid: (value: string) =>
      `"${value}" is not an accepted IP address or CIDR range (for example 203.0.113.7, 203.0.113.0/24 or 2001:db8::/48).`,
    empty: 'Enter an IP address or a CIDR range.',
    detail: 'Detail:',
    duplicate: (cidr: string) => `${cidr} is already allowed for this account.`,
    noteTooLong: `The note is at most ${MAX_ALLOWLIST_NOTE} characters.`,
    tooWide: (covered: string, limit: string) =>
      `With this entry the list would cover ${covered}, while the operator allows at most ${limit}. Enter the addresses or ranges of your own mail servers only, or rely on SPF.`,
    notSaved: 'The address was not added: correct the field shown.',
    spfTitle: 'Without an allowed IP address: SPF',
    spfIntro:
      'When an email comes from none of the addresses above, the gateway looks up the SPF record of the sender’s domain (the part of their address after @) and accepts the email only if that domain lists the server that sent it.',
    spfRecord:
      'The sender’s domain can publish this TXT record, built from this account’s addresses (replace your-domain.com with yours):',
    spfExample:
      'For example, with a single server address (replace the address and your-domain.com with yours):',
    spfInclude:
      'If your mail is hosted (Google Workspace, Microsoft 365…), add the include: mechanism your provider gives, for example:',
    spfOneRecord:
      'A domain must have only one SPF record: if it already has one, add these addresses to it rather than creating a second.',
    smsDomains: 'Email is addressed to <number>@',
  },
)

type Labels = ReturnType<typeof t>

const EXAMPLE_ADDRESS = '203.0.113.7/32'
const EXAMPLE_INCLUDE = '_spf.google.com'

interface AddForm {
  address: string
  note: string
  addressError?: string
  /** The parser's own explanation (host bits, prefix length), in English only. */
  addressDetail?: string
  noteError?: string
}

function domainPlaceholder(lang: Lang): string {
  return lang === 'en' ? 'your-domain.com' : 'votre-domaine.fr'
}

function txtLine(lang: Lang, record: string): string {
  return `${domainPlaceholder(lang)}.  IN  TXT  "${record}"`
}

function EntriesTable(props: {
  l: Labels
  lang: Lang
  zone: string
  base: string
  entries: AllowlistAdminEntry[]
}) {
  const { l, lang, zone, base, entries } = props
  if (entries.length === 0) return <p class="empty">{l.none}</p>
  return (
    <table class="ips">
      <thead>
        <tr>
          <th scope="col">{l.address}</th>
          <th scope="col">{l.note}</th>
          <th scope="col">{l.added}</th>
          <th scope="col">
            <span class="visually-hidden">{l.actions}</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr>
            <td>
              <code>{e.cidr}</code>
            </td>
            <td>{e.note ?? ''}</td>
            <td>{formatDateTime(e.createdAt, lang, zone)}</td>
            <td>
              <PostButton
                action={`${base}/delete`}
                fields={{ id: String(e.id) }}
                label={l.removeLabel(e.cidr)}
                danger
              >
                {l.remove}
              </PostButton>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function AddEntryForm(props: { l: Labels; base: string; form: AddForm }) {
  const { l, base, form } = props
  const failed = Boolean(form.addressError || form.noteError)
  return (
    <form method="post" action={base} class="add-ip">
      <h2>{l.addTitle}</h2>
      <FormError message={failed ? l.notSaved : null} />
      <Field
        name="address"
        label={l.address}
        hint={l.addressHint}
        value={form.address}
        maxlength={100}
        autocomplete="off"
        error={form.addressError}
      />
      {form.addressDetail && (
        <p class="field-error" lang="en">
          {l.detail} {form.addressDetail}
        </p>
      )}
      <Field
        name="note"
        label={l.note}
        hint={l.noteHint}
        value={form.note}
        maxlength={MAX_ALLOWLIST_NOTE}
        error={form.noteError}
      />
      <button type="submit" class="primary">
        {l.save}
      </button>
    </form>
  )
}

function SpfNote(props: {
  l: Labels
  lang: Lang
  entries: AllowlistAdminEntry[]
  smsDomains: string[]
}) {
  const { l, lang, entries } = props
  const cidrs = entries.map((e) => e.cidr)
  const ranges = cidrs.length > 0 ? cidrs : [EXAMPLE_ADDRESS]
  return (
    <section class="spf" aria-labelledby="spf-title">
      <h2 id="spf-title">{l.spfTitle}</h2>
      <p>{l.spfIntro}</p>
      {props.smsDomains.length > 0 && (
        <p>
          {l.smsDomains}
          {props.smsDomains.join(', ')}
        </p>
      )}
      <p>{cidrs.length > 0 ? l.spfRecord : l.spfExample}</p>
      <pre class="spf-record">{txtLine(lang, suggestSpfRecord(ranges))}</pre>
      <p>{l.spfInclude}</p>
      <pre class="spf-record">{txtLine(lang, suggestSpfRecord(ranges, [EXAMPLE_INCLUDE]))}</pre>
      <p>{l.spfOneRecord}</p>
    </section>
  )
}

function IpsPage(props: {
  lang: Lang
  zone: string
  base: string
  entries: AllowlistAdminEntry[]
  form: AddForm
  smsDomains: string[]
}) {
  const l = t(props.lang)
  return (
    <>
      <p>{l.intro}</p>
      <EntriesTable
        l={l}
        lang={props.lang}
        zone={props.zone}
        base={props.base}
        entries={props.entries}
      />
      <AddEntryForm l={l} base={props.base} form={props.form} />
      <SpfNote l={l} lang={props.lang} entries={props.entries} smsDomains={props.smsDomains} />
    </>
  )
}

// French groups thousands with a narrow no-break space; "un /16" reads as "one /16".
const COUNT_WORDS: Record<Lang, Parameters<typeof describeAddressCount>[2]> = {
  fr: { group: '\u202f', one: 'un', addresses: (family) => `adresses IPv${family}` },
  en: { group: ',', one: 'one', addresses: (family) => `IPv${family} addresses` },
}

function tooWideMessage(lang: Lang, excess: CoverageExcess): string {
  const { family, covered, limit } = excess
  const words = COUNT_WORDS[lang]
  return t(lang).tooWide(
    describeAddressCount(covered, family, words),
    describeAddressCount(limit, family, words),
  )
}

async function render(c: Context<AdminEnv>, form: AddForm) {
  const lang = c.get('lang')
  const { db, smsDomains } = c.get('deps')
  const entries = await listAllowlistEntries(db, c.get('account').id)
  const page = (
    <IpsPage
      lang={lang}
      zone={c.get('account').timeZone}
      base={accountPath(c, 'ips')}
      entries={entries}
      form={form}
      smsDomains={smsDomains}
    />
  )
  return c.render(page, { title: t(lang).title, section: 'ips' })
}

export const ipsRoutes = new Hono<AdminEnv>()

ipsRoutes.get('/', (c) => render(c, { address: '', note: '' }))

ipsRoutes.post('/', async (c) => {
  const { db, clock, allowlist } = c.get('deps')
  const accountId = c.get('account').id
  const l = t(c.get('lang'))
  const body = await c.req.parseBody()
  const form: AddForm = { address: formText(body, 'address'), note: formText(body, 'note') }
  const note = form.note.trim()
  const parsed = parseAllowlistEntry(form.address)
  if (!parsed.ok) {
    const written = form.address.trim()
    form.addressError = written === '' ? l.empty : l.invalid(written)
    if (written !== '') form.addressDetail = parsed.message
  } else if (await hasAllowedCidr(db, accountId, parsed.cidr)) {
    form.addressError = l.duplicate(parsed.cidr)
  }
  if (note.length > MAX_ALLOWLIST_NOTE) form.noteError = l.noteTooLong
  if (!parsed.ok || form.addressError || form.noteError) {
    c.status(400)
    return render(c, form)
  }
  try {
    await addAllowedIp(db, accountId, parsed.cidr, note || null, clock(), allowlist)
  } catch (err) {
    if (err instanceof AllowlistTooWideError) {
      c.status(400)
      return render(c, { ...form, addressError: tooWideMessage(c.get('lang'), err.excess) })
    }
    // The address parsed above, so this is another request adding the same range first.
    if (!(err instanceof ValidationError)) throw err
    c.status(400)
    return render(c, { ...form, addressError: l.duplicate(parsed.cidr) })
  }
  await setFlash(c, 'ok', l.addedFlash(parsed.cidr))
  return c.redirect(accountPath(c, 'ips'), 303)
})

ipsRoutes.post('/delete', async (c) => {
  const { db } = c.get('deps')
  const accountId = c.get('account').id
  const raw = formText(await c.req.parseBody(), 'id')
  const id = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN
  const entry = (await listAllowlistEntries(db, accountId)).find((e) => e.id === id)
  // Another account's entry is indistinguishable from a missing one.
  if (!entry || !(await removeAllowedIpById(db, accountId, id))) throw new HTTPException(404)
  await setFlash(c, 'ok', t(c.get('lang')).removed(entry.cidr))
  return c.redirect(accountPath(c, 'ips'), 303)
})
