import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { accountPath } from '../account'
import { setFlash } from '../flash'
import { auditedChange, type AuditChange } from '../audit'
import { Field, FormError, PostButton, formText, formatDateTime } from '../components/form'
import { ConfirmAction, ConfirmFirstButton, isConfirmed } from '../components/confirm'
import { ValidationError } from '../../lib/db/accounts'
import {
  addAllowedIp,
  addAllowedIps,
  AllowlistTooWideError,
  MAX_ENTRIES_AT_ONCE,
} from '../../lib/db/allowlist'
import {
  checkAllowlistAdditions,
  describeAddressCount,
  isCoveredBy,
  type CoverageExcess,
} from '../../lib/net/allowlist-coverage'
import {
  MAX_ALLOWLIST_NOTE,
  hasAllowedCidr,
  listAllowlistEntries,
  removeAllowedIpById,
  suggestSpfRecord,
  type AllowlistAdminEntry,
} from '../../lib/db/allowlist-admin'
import { parseAllowlistEntry, type AllowlistProblem } from '../../lib/net/allowlist'
import { parseDashRange, type RangeProblem, type RangeToCidrs } from '../../lib/net/ip-range'

const t = defineMessages(
  {
    title: 'Gestion des adresses IP',
    intro:
      "Les e-mails venant des serveurs de messagerie listés ici sont acceptés pour les utilisateurs de ce compte sans autre vérification. Indiquez l'adresse IP sortante de chaque serveur, ou une plage d'adresses (notation CIDR, ou première et dernière adresse séparées par un tiret), en IPv4 comme en IPv6.",
    address: 'Adresse IP',
    note: 'Note',
    added: 'Ajoutée le',
    actions: 'Actions',
    none: "Aucune adresse IP n'est autorisée pour ce compte : les e-mails sont vérifiés par SPF.",
    remove: 'Effacer',
    removeLabel: (cidr: string) => `Effacer ${cidr}`,
    removed: (cidr: string) => `${cidr} n'est plus autorisée.`,
    confirmTitle: 'Effacer l’adresse IP',
    confirmWhat: (cidr: string, account: string) =>
      `Effacer ${cidr} des adresses IP autorisées du compte « ${account} » ?`,
    confirmConsequence:
      'Les e-mails venant de ces adresses devront alors passer la vérification SPF, sauf si une autre entrée de la liste les couvre ; sinon, ils seront refusés.',
    addTitle: "Ajouter l'adresse IP",
    addressHint:
      'Par exemple 203.0.113.7, 203.0.113.0/24, 2001:db8::/48 ou 192.168.1.1-192.168.1.20.',
    noteHint: 'Facultatif : le serveur dont il s’agit, pour vous en souvenir.',
    save: 'Sauvegarder',
    addedFlash: (cidr: string) => `${cidr} est autorisée.`,
    invalid: (value: string) =>
      `« ${value} » n'est pas une adresse IP ni une plage CIDR acceptée (par exemple 203.0.113.7, 203.0.113.0/24, 2001:db8::/48 ou 192.168.1.1-192.168.1.20).`,
    empty: 'Saisissez une adresse IP ou une plage CIDR.',
    duplicate: (cidr: string) => `${cidr} est déjà autorisée pour ce compte.`,
    noteTooLong: `La note fait au plus ${MAX_ALLOWLIST_NOTE} caractères.`,
    tooWide: (covered: string, limit: string) =>
      `Avec cette entrée, la liste couvrirait ${covered}, alors que l'opérateur en permet au plus ${limit}. C’est trop : tout serveur de ces adresses pourrait envoyer des SMS au nom des utilisateurs de ce compte. Indiquez les adresses ou les plages de vos seuls serveurs de messagerie, ou comptez sur SPF.`,
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
      'Email coming from the mail servers listed here is accepted for this account’s users without further checks. Enter the outgoing IP address of each server, or a range of addresses (CIDR notation, or the first and last address with a dash between them), IPv4 or IPv6.',
    address: 'IP address',
    note: 'Note',
    added: 'Added',
    actions: 'Actions',
    none: 'No IP address is allowed for this account: email is checked with SPF.',
    remove: 'Delete',
    removeLabel: (cidr: string) => `Delete ${cidr}`,
    removed: (cidr: string) => `${cidr} is no longer allowed.`,
    confirmTitle: 'Delete the IP address',
    confirmWhat: (cidr: string, account: string) =>
      `Delete ${cidr} from the allowed IP addresses of the account "${account}"?`,
    confirmConsequence:
      'Email coming from these addresses will then have to pass the SPF check, unless another entry of the list covers them; otherwise it is refused.',
    addTitle: 'Add an IP address',
    addressHint:
      'For example 203.0.113.7, 203.0.113.0/24, 2001:db8::/48 or 192.168.1.1-192.168.1.20.',
    noteHint: 'Optional: which server this is, as a reminder.',
    save: 'Save',
    addedFlash: (cidr: string) => `${cidr} is allowed.`,
    invalid: (value: string) =>
      `"${value}" is not an accepted IP address or CIDR range (for example 203.0.113.7, 203.0.113.0/24, 2001:db8::/48 or 192.168.1.1-192.168.1.20).`,
    empty: 'Enter an IP address or a CIDR range.',
    duplicate: (cidr: string) => `${cidr} is already allowed for this account.`,
    noteTooLong: `The note is at most ${MAX_ALLOWLIST_NOTE} characters.`,
    tooWide: (covered: string, limit: string) =>
      `With this entry the list would cover ${covered}, while the operator allows at most ${limit}. That is too much: any server at those addresses could send SMS as this account’s users. Enter the addresses or ranges of your own mail servers only, or rely on SPF.`,
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

/** Why an entry is refused, and the blocks the page offers instead (add form only). */
const entryText = defineMessages(
  {
    badPrefix: (value: string, family: number, max: number) =>
      `« ${value} » n'est pas une adresse IP ni une plage CIDR acceptée : en IPv${family}, la longueur du préfixe va de 0 à ${max}.`,
    zoneId: (value: string, zone: string) =>
      `« ${value} » porte un suffixe d’interface (${zone}), qui n’a de sens que sur une seule machine : saisissez l’adresse sans lui.`,
    mappedTooWide: (value: string, example: string) =>
      `« ${value} » mêle des adresses IPv4 (écrites ::ffff:…) et des adresses IPv6 : saisissez plutôt la plage IPv4, par exemple ${example}.`,
    hostBits: (value: string, network: string, address: string) =>
      `« ${value} » désigne une adresse à l’intérieur d’une plage, pas le début de cette plage (des bits d’hôte sont à 1 après le préfixe). Vous pensiez sans doute au réseau ${network} ; pour cette seule adresse, saisissez ${address}.`,
    wholeInternet: (value: string, family: number) =>
      `« ${value} » couvre tout l’Internet (toutes les adresses IPv${family}) : n’importe quel serveur pourrait alors envoyer des SMS au nom des utilisateurs de ce compte. Indiquez les adresses de vos seuls serveurs de messagerie, ou comptez sur SPF.`,
    rangeReversed: (value: string) =>
      `« ${value} » : la première adresse vient après la seconde. Écrivez la plus basse en premier, par exemple 192.168.1.1-192.168.1.20.`,
    rangeMixed: (value: string) =>
      `« ${value} » va d’une adresse IPv4 à une adresse IPv6 : une plage reste dans une seule famille d’adresses.`,
    rangeNotAddress: (value: string) =>
      `« ${value} » n’est pas une plage d’adresses : écrivez la première et la dernière adresse IP séparées par un tiret, par exemple 192.168.1.1-192.168.1.20.`,
    rangeTooManyBlocks: (blocks: number) =>
      `Cette plage correspond à ${blocks} blocs CIDR, et ${MAX_ENTRIES_AT_ONCE} au plus s’ajoutent à la fois : découpez-la en plages plus petites, ou saisissez vous-même des plages CIDR plus larges.`,
    rangeAllPresent: (value: string) =>
      `Toutes les adresses de « ${value} » sont déjà autorisées pour ce compte.`,
    rangeTitle: 'Ajouter cette plage d’adresses',
    rangeIntro: (value: string, blocks: number) =>
      blocks === 1
        ? `La plage « ${value} » correspond exactement à ce bloc CIDR :`
        : `La plage « ${value} » correspond exactement à ces ${blocks} blocs CIDR :`,
    alreadyAllowed: 'déjà autorisée',
    addBlocks: (blocks: number) =>
      blocks === 1 ? 'Ajouter ce bloc' : `Ajouter ces ${blocks} blocs`,
    meantTitle: 'Ce que vous vouliez peut-être ajouter',
    addNetwork: (network: string) => `Ajouter le réseau ${network}`,
    addAddress: (address: string) => `Ajouter ${address} seule`,
    meantPresent: (cidr: string) => `${cidr} est déjà autorisée pour ce compte.`,
    meantTooWide: (cidr: string) =>
      `${cidr} couvrirait plus d’adresses que l’opérateur n’en permet pour ce compte.`,
    blocksAdded: (cidrs: string[]) =>
      cidrs.length === 1
        ? `${cidrs[0]} est autorisée.`
        : `Ces ${cidrs.length} plages sont autorisées : ${cidrs.join(', ')}.`,
    blocksPresent: 'Ces plages étaient déjà autorisées pour ce compte.',
    blocksRace:
      "Une de ces plages a été ajoutée au même moment par ailleurs : rien n'a été ajouté. Vérifiez la liste et recommencez.",
  },
  {
    badPrefix: (value: string, family: number, max: number) =>
      `"${value}" is not an accepted IP address or CIDR range: in IPv${family} the prefix length goes from 0 to ${max}.`,
    zoneId: (value: string, zone: string) =>
      `"${value}" has an interface suffix (${zone}), which only means something on one machine: enter the address without it.`,
    mappedTooWide: (value: string, example: string) =>
      `"${value}" mixes IPv4 addresses (written ::ffff:…) with IPv6 ones: enter the IPv4 range instead, for example ${example}.`,
    hostBits: (value: string, network: string, address: string) =>
      `"${value}" names an address inside a range, not the start of the range (host bits are set after the prefix). You probably meant the network ${network}; for that one address alone, enter ${address}.`,
    wholeInternet: (value: string, family: number) =>
      `"${value}" covers the whole Internet (every IPv${family} address): any server at all could then send SMS as this account’s users. Enter your own mail servers’ addresses only, or rely on SPF.`,
    rangeReversed: (value: string) =>
      `"${value}": the first address comes after the second. Write the lower one first, for example 192.168.1.1-192.168.1.20.`,
    rangeMixed: (value: string) =>
      `"${value}" goes from an IPv4 address to an IPv6 one: a range stays within one address family.`,
    rangeNotAddress: (value: string) =>
      `"${value}" is not an address range: write the first and the last IP address with a dash between them, for example 192.168.1.1-192.168.1.20.`,
    rangeTooManyBlocks: (blocks: number) =>
      `This range is ${blocks} CIDR blocks, and at most ${MAX_ENTRIES_AT_ONCE} can be added at once: split it into smaller ranges, or enter wider CIDR ranges yourself.`,
    rangeAllPresent: (value: string) =>
      `Every address of "${value}" is already allowed for this account.`,
    rangeTitle: 'Add this address range',
    rangeIntro: (value: string, blocks: number) =>
      blocks === 1
        ? `The range "${value}" is exactly this CIDR block:`
        : `The range "${value}" is exactly these ${blocks} CIDR blocks:`,
    alreadyAllowed: 'already allowed',
    addBlocks: (blocks: number) => (blocks === 1 ? 'Add this block' : `Add these ${blocks} blocks`),
    meantTitle: 'What you may have meant to add',
    addNetwork: (network: string) => `Add the network ${network}`,
    addAddress: (address: string) => `Add ${address} alone`,
    meantPresent: (cidr: string) => `${cidr} is already allowed for this account.`,
    meantTooWide: (cidr: string) =>
      `${cidr} would cover more addresses than the operator allows for this account.`,
    blocksAdded: (cidrs: string[]) =>
      cidrs.length === 1
        ? `${cidrs[0]} is allowed.`
        : `These ${cidrs.length} ranges are allowed: ${cidrs.join(', ')}.`,
    blocksPresent: 'These ranges were already allowed for this account.',
    blocksRace:
      'One of these ranges was added at the same moment elsewhere: nothing was added. Check the list and try again.',
  },
)

type EntryLabels = ReturnType<typeof entryText>

const EXAMPLE_ADDRESS = '203.0.113.7/32'
const EXAMPLE_INCLUDE = '_spf.google.com'

interface AddForm {
  address: string
  note: string
  addressError?: string
  noteError?: string
  proposal?: Proposal
}

/**
 * Blocks the page offers to add in one click: the CIDR blocks of a first-last range (one form,
 * all of them), or the network and the single address an entry with host bits may have meant.
 */
interface Proposal {
  kind: 'range' | 'meant'
  /** What the admin typed, to name it. */
  written: string
  blocks: ProposedBlock[]
}

interface ProposedBlock {
  cidr: string
  /** Already held by an entry of the account's list: not added again. */
  present: boolean
  /** Would take the list past the operator's coverage limit. */
  tooWide: boolean
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
    <table class="ips stack">
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
            <td class="wrap-anywhere full" data-label={l.address}>
              <code>{e.cidr}</code>
            </td>
            <td class="full" data-label={l.note}>
              {e.note ?? ''}
            </td>
            <td data-label={l.added}>{formatDateTime(e.createdAt, lang, zone)}</td>
            <td class="actions">
              <ConfirmFirstButton
                href={`${base}/delete`}
                fields={{ id: String(e.id) }}
                label={l.removeLabel(e.cidr)}
                danger
              >
                {l.remove}
              </ConfirmFirstButton>
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

/** The blocks of a first-last range, added together by one hidden-field form. */
function RangeProposal(props: { e: EntryLabels; base: string; note: string; proposal: Proposal }) {
  const { e, proposal } = props
  const fresh = proposal.blocks.filter((b) => !b.present)
  return (
    <section class="ip-proposal" aria-labelledby="ip-proposal-title">
      <h2 id="ip-proposal-title">{e.rangeTitle}</h2>
      <p>{e.rangeIntro(proposal.written, proposal.blocks.length)}</p>
      <ul class="cidr-blocks">
        {proposal.blocks.map((b) => (
          <li>
            <code>{b.cidr}</code>
            {b.present && ` (${e.alreadyAllowed})`}
          </li>
        ))}
      </ul>
      <form method="post" action={`${props.base}/blocks`}>
        {fresh.map((b) => (
          <input type="hidden" name="block" value={b.cidr} />
        ))}
        <input type="hidden" name="note" value={props.note} />
        <button type="submit" class="primary">
          {e.addBlocks(fresh.length)}
        </button>
      </form>
    </section>
  )
}

/** For an entry with host bits: the network, and the single address, each one click away. */
function MeantProposal(props: { e: EntryLabels; base: string; note: string; proposal: Proposal }) {
  const { e } = props
  const [network, address] = props.proposal.blocks
  const offer = (block: ProposedBlock, label: string) => {
    if (block.present) return <p>{e.meantPresent(block.cidr)}</p>
    if (block.tooWide) return <p>{e.meantTooWide(block.cidr)}</p>
    return (
      <p>
        <PostButton
          action={`${props.base}/blocks`}
          fields={{ block: block.cidr, note: props.note }}
        >
          {label}
        </PostButton>
      </p>
    )
  }
  return (
    <section class="ip-proposal" aria-labelledby="ip-proposal-title">
      <h2 id="ip-proposal-title">{e.meantTitle}</h2>
      {offer(network, e.addNetwork(network.cidr))}
      {offer(address, e.addAddress(address.cidr.replace(/\/(32|128)$/, '')))}
    </section>
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
      <pre class="spf-record copyable">{txtLine(lang, suggestSpfRecord(ranges))}</pre>
      <p>{l.spfInclude}</p>
      <pre class="spf-record copyable">
        {txtLine(lang, suggestSpfRecord(ranges, [EXAMPLE_INCLUDE]))}
      </pre>
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
  const e = entryText(props.lang)
  const { proposal, note } = props.form
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
      {proposal?.kind === 'range' && (
        <RangeProposal e={e} base={props.base} note={note.trim()} proposal={proposal} />
      )}
      {proposal?.kind === 'meant' && (
        <MeantProposal e={e} base={props.base} note={note.trim()} proposal={proposal} />
      )}
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

/** The refusal of a typed entry, in the page's language. */
function problemText(lang: Lang, written: string, problem: AllowlistProblem): string {
  const e = entryText(lang)
  switch (problem.kind) {
    case 'empty':
      return t(lang).empty
    case 'not_an_address':
      return t(lang).invalid(written)
    case 'bad_prefix':
      return e.badPrefix(written, problem.family, problem.max)
    case 'zone_id':
      return e.zoneId(written, problem.zone)
    case 'mapped_too_wide':
      return e.mappedTooWide(written, problem.suggestion)
    case 'host_bits':
      return e.hostBits(written, problem.network, problem.address)
    case 'whole_internet':
      return e.wholeInternet(written, problem.family)
  }
}

function rangeProblemText(lang: Lang, written: string, problem: RangeProblem): string {
  const e = entryText(lang)
  if (problem === 'reversed') return e.rangeReversed(written)
  if (problem === 'mixed_families') return e.rangeMixed(written)
  return e.rangeNotAddress(written)
}

/**
 * Each block as the account's list stands: already held by one of its entries, or too wide to
 * add alone; with `together`, the excess of adding all the others at once.
 */
async function proposedBlocks(
  c: Context<AdminEnv>,
  cidrs: string[],
  together: boolean,
): Promise<{ blocks: ProposedBlock[]; excess: CoverageExcess | null }> {
  const { db, allowlist } = c.get('deps')
  const existing = (await listAllowlistEntries(db, c.get('account').id)).map((e) => e.cidr)
  const blocks = cidrs.map((cidr) => ({
    cidr,
    present: isCoveredBy(existing, cidr),
    tooWide: !together && checkAllowlistAdditions(existing, [cidr], allowlist) !== null,
  }))
  const fresh = blocks.filter((b) => !b.present).map((b) => b.cidr)
  const excess = together ? checkAllowlistAdditions(existing, fresh, allowlist) : null
  return { blocks, excess }
}

/**
 * A first-last range is not stored as typed: the page shows the CIDR blocks that cover exactly
 * those addresses and offers to add them, so that the admin sees what the list will hold.
 */
async function proposeRange(c: Context<AdminEnv>, form: AddForm, range: RangeToCidrs) {
  const lang = c.get('lang')
  const e = entryText(lang)
  const written = form.address.trim()
  if (!range.ok) {
    form.addressError = rangeProblemText(lang, written, range.problem)
  } else if (range.cidrs.length === 1 && range.cidrs[0].endsWith('/0')) {
    form.addressError = e.wholeInternet(written, range.family)
  } else if (range.cidrs.length > MAX_ENTRIES_AT_ONCE) {
    form.addressError = e.rangeTooManyBlocks(range.cidrs.length)
  } else {
    const { blocks, excess } = await proposedBlocks(c, range.cidrs, true)
    if (blocks.every((b) => b.present)) form.addressError = e.rangeAllPresent(written)
    else if (excess) form.addressError = tooWideMessage(lang, excess)
    else if (!form.noteError)
      return render(c, { ...form, proposal: { kind: 'range', written, blocks } })
  }
  c.status(400)
  return render(c, form)
}

ipsRoutes.post('/', async (c) => {
  const { db, clock, allowlist } = c.get('deps')
  const accountId = c.get('account').id
  const lang = c.get('lang')
  const l = t(lang)
  const body = await c.req.parseBody()
  const form: AddForm = { address: formText(body, 'address'), note: formText(body, 'note') }
  const note = form.note.trim()
  if (note.length > MAX_ALLOWLIST_NOTE) form.noteError = l.noteTooLong
  const written = form.address.trim()
  const range = parseDashRange(written)
  if (range) return proposeRange(c, form, range)
  const parsed = parseAllowlistEntry(written)
  if (!parsed.ok) {
    form.addressError = problemText(lang, written, parsed.problem)
    if (parsed.problem.kind === 'host_bits') {
      const { network, address } = parsed.problem
      const meant = [network, `${address}/${network.includes(':') ? 128 : 32}`]
      const { blocks } = await proposedBlocks(c, meant, false)
      form.proposal = { kind: 'meant', written, blocks }
    }
  } else if (await hasAllowedCidr(db, accountId, parsed.cidr)) {
    form.addressError = l.duplicate(parsed.cidr)
  }
  if (!parsed.ok || form.addressError || form.noteError) {
    c.status(400)
    return render(c, form)
  }
  try {
    await auditedChange(
      c,
      (trx) => addAllowedIp(trx, accountId, parsed.cidr, note || null, clock(), allowlist),
      (entry) => ({
        action: 'ip.add',
        subject: entry.cidr,
        after: { cidr: entry.cidr, note: entry.note },
      }),
    )
  } catch (err) {
    if (err instanceof AllowlistTooWideError) {
      c.status(400)
      return render(c, { ...form, addressError: tooWideMessage(lang, err.excess) })
    }
    // The address parsed above, so this is another request adding the same range first.
    if (!(err instanceof ValidationError)) throw err
    c.status(400)
    return render(c, { ...form, addressError: l.duplicate(parsed.cidr) })
  }
  await setFlash(c, 'ok', l.addedFlash(parsed.cidr))
  return c.redirect(accountPath(c, 'ips'), 303)
})

/** The audit entry of blocks added together: named by the first and the last. */
function blocksAudit(entries: Array<{ cidr: string }>, note: string): AuditChange {
  const cidrs = entries.map((entry) => entry.cidr)
  const subject = cidrs.length === 1 ? cidrs[0] : `${cidrs[0]} … ${cidrs[cidrs.length - 1]}`
  return { action: 'ip.add_blocks', subject, after: { cidrs, note: note || null } }
}

/** The values of a field that a form may repeat (hidden `block` fields). */
function formTexts(body: Record<string, unknown>, name: string): string[] {
  const value = body[name]
  const values = Array.isArray(value) ? value : [value]
  return values.filter((v): v is string => typeof v === 'string')
}

/**
 * The one-click addition the page offers: the blocks of a range, or the network an entry with
 * host bits meant. Only blocks in the list's own form are taken (the page never posts others),
 * all of them or none, within the coverage limit.
 */
ipsRoutes.post('/blocks', async (c) => {
  const { clock, allowlist } = c.get('deps')
  const lang = c.get('lang')
  const e = entryText(lang)
  const body = await c.req.parseBody({ all: true })
  const blocks = formTexts(body, 'block')
  const [note = ''] = formTexts(body, 'note').map((n) => n.trim())
  const wellFormed = blocks.every((block) => {
    const parsed = parseAllowlistEntry(block)
    return parsed.ok && parsed.cidr === block
  })
  const fits = blocks.length >= 1 && blocks.length <= MAX_ENTRIES_AT_ONCE
  if (!wellFormed || !fits || note.length > MAX_ALLOWLIST_NOTE) throw new HTTPException(400)
  let added: string[]
  try {
    const entries = await auditedChange(
      c,
      (trx) => addAllowedIps(trx, c.get('account').id, blocks, note || null, clock(), allowlist),
      (fresh) => fresh.length > 0 && blocksAudit(fresh, note),
    )
    added = entries.map((entry) => entry.cidr)
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err
    const form: AddForm = { address: '', note }
    form.addressError =
      err instanceof AllowlistTooWideError ? tooWideMessage(lang, err.excess) : e.blocksRace
    c.status(400)
    return render(c, form)
  }
  await setFlash(c, 'ok', added.length > 0 ? e.blocksAdded(added) : e.blocksPresent)
  return c.redirect(accountPath(c, 'ips'), 303)
})

/** The entry of this account an id names; another account's entry is the same 404 as none. */
async function entryOf(c: Context<AdminEnv>, raw: string): Promise<AllowlistAdminEntry> {
  const id = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN
  const entries = await listAllowlistEntries(c.get('deps').db, c.get('account').id)
  const entry = entries.find((e) => e.id === id)
  if (!entry) throw new HTTPException(404)
  return entry
}

/** "Effacer" leads here first: the page names the address and the account, and asks. */
ipsRoutes.get('/delete', async (c) => {
  const entry = await entryOf(c, c.req.query('id') ?? '')
  const lang = c.get('lang')
  const l = t(lang)
  const base = accountPath(c, 'ips')
  const page = (
    <ConfirmAction
      lang={lang}
      what={l.confirmWhat(entry.cidr, c.get('account').name)}
      consequence={l.confirmConsequence}
      action={`${base}/delete`}
      fields={{ id: String(entry.id) }}
      cancel={base}
    />
  )
  return c.render(page, { title: l.confirmTitle, section: 'ips' })
})

ipsRoutes.post('/delete', async (c) => {
  const accountId = c.get('account').id
  const body = await c.req.parseBody()
  const entry = await entryOf(c, formText(body, 'id'))
  // Not through the confirmation page: ask there, delete nothing.
  if (!isConfirmed(body)) return c.redirect(`${accountPath(c, 'ips')}/delete?id=${entry.id}`, 303)
  const removed = await auditedChange(
    c,
    (trx) => removeAllowedIpById(trx, accountId, entry.id),
    (done) =>
      done && {
        action: 'ip.delete',
        subject: entry.cidr,
        before: { cidr: entry.cidr, note: entry.note },
      },
  )
  if (!removed) throw new HTTPException(404)
  await setFlash(c, 'ok', t(c.get('lang')).removed(entry.cidr))
  return c.redirect(accountPath(c, 'ips'), 303)
})
