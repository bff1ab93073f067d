import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { FilterCard, Pager } from '../components/list-page'
import { accountPath } from '../account'
import { recordAudit } from '../audit'
import { setFlash } from '../flash'
import { Field, FieldFrame, FormError, formText, formatDateTime } from '../components/form'
import { getAccountSettings } from '../../lib/db/account-settings'
import {
  findOptOut,
  listOptOuts,
  removeOptOut,
  type OptOut,
  type OptOutCursor,
} from '../../lib/db/opt-outs'
import { parseNumberSearch, type NumberSearch } from '../../lib/phone-search'

const t = defineMessages(
  {
    title: 'Désinscriptions (STOP)',
    intro:
      'Ces numéros ont répondu STOP (ou ARRET, DESABONNER, UNSUBSCRIBE…) à un SMS de ce compte. La passerelle n’envoie plus aucun SMS de ce compte à ces numéros : l’e-mail qu’un utilisateur leur adresse est refusé, et l’expéditeur en est averti par le message d’erreur.',
    startIntro:
      'La personne peut se réinscrire à tout moment en envoyant START au numéro virtuel du compte. Ne supprimez une désinscription vous-même qu’à sa demande : le motif que vous donnez est gardé dans le journal d’audit.',
    searchTitle: 'Rechercher',
    number: 'Numéro',
    numberHint:
      'Tout ou partie du numéro : 06 12 34 56 78, +336, ou quelques chiffres présents n’importe où dans le numéro.',
    search: 'Rechercher',
    showAll: 'Tout afficher',
    keyword: 'Mot-clé reçu',
    since: 'Désinscrit le',
    actions: 'Actions',
    remove: 'Supprimer…',
    removeLabel: (number: string) => `Supprimer la désinscription de ${number}`,
    none: 'Aucun numéro ne s’est désinscrit de ce compte.',
    noMatch: 'Aucune désinscription ne correspond à ce numéro.',
    noMore: 'Pas d’autre désinscription plus ancienne.',
    next: 'Page suivante',
    first: 'Retour aux plus récentes',
    pages: 'Pages des désinscriptions',
    badNumber: (value: string) =>
      `« ${value} » n’est pas un numéro ni une partie de numéro : tapez des chiffres, avec + ou 00 devant pour un numéro international.`,
    badBefore: 'Ce lien de page n’est pas valable : revenez aux désinscriptions les plus récentes.',
    confirmTitle: 'Supprimer une désinscription',
    confirmQuestion: (number: string, account: string) =>
      `Supprimer la désinscription de ${number} pour le compte ${account} ?`,
    confirmEffect:
      'Ce numéro pourra de nouveau recevoir les SMS des utilisateurs de ce compte. Faites-le seulement à la demande de la personne, qui peut aussi envoyer START elle-même.',
    reason: 'Motif',
    reasonHint:
      'Obligatoire, de 3 à 500 caractères : qui l’a demandé, et comment. Il est gardé dans le journal d’audit.',
    reasonShort: 'Indiquez le motif en 3 caractères au moins.',
    reasonLong: (n: number) => `Le motif fait au plus 500 caractères (${n} saisis).`,
    notRemoved: 'La désinscription n’a pas été supprimée : corrigez le champ signalé.',
    confirm: 'Supprimer la désinscription',
    cancel: 'Annuler',
    removed: (number: string) => `${number} peut de nouveau recevoir les SMS de ce compte.`,
  },
  {
    title: 'Opt-outs (STOP)',
    intro:
      'These numbers answered STOP (or UNSUBSCRIBE, CANCEL, ARRET…) to an SMS of this account. The gateway sends no more SMS from this account to them: email a user addresses to them is refused, and the sender is told so in the error message.',
    startIntro:
      'The person can opt in again at any time by texting START to the account’s virtual number. Remove an opt-out yourself only when they ask you to: the reason you give is kept in the audit log.',
    searchTitle: 'Search',
    number: 'Number',
    numberHint:
      'All or part of the number: +44 7700 900123, +447, or a few digits anywhere in the number.',
    search: 'Search',
    showAll: 'Show all',
    keyword: 'Keyword received',
    since: 'Opted out',
    actions: 'Actions',
    remove: 'Remove…',
    removeLabel: (number: string) => `Remove the opt-out of ${number}`,
    none: 'No number has opted out of this account.',
    noMatch: 'No opt-out matches this number.',
    noMore: 'No older opt-out.',
    next: 'Next page',
    first: 'Back to the newest',
    pages: 'Opt-out pages',
    badNumber: (value: string) =>
      `"${value}" is not a number nor part of one: type digits, with + or 00 in front for an international number.`,
    badBefore: 'This page link is not valid: go back to the newest opt-outs.',
    confirmTitle: 'Remove an opt-out',
    confirmQuestion: (number: string, account: string) =>
      `Remove the opt-out of ${number} for the account ${account}?`,
    confirmEffect:
      'This number will get SMS from this account’s users again. Do it only when the person asks you to; they can also text START themselves.',
    reason: 'Reason',
    reasonHint:
      'Required, 3 to 500 characters: who asked for it, and how. It is kept in the audit log.',
    reasonShort: 'Give the reason in at least 3 characters.',
    reasonLong: (n: number) => `The reason is at most 500 characters (${n} typed).`,
    notRemoved: 'The opt-out was not removed: correct the field shown.',
    confirm: 'Remove the opt-out',
    cancel: 'Cancel',
    removed: (number: string) => `${number} can get SMS from this account again.`,
  },
)

type Labels = ReturnType<typeof t>

export const PAGE_SIZE = 50
export const REASON_MIN = 3
export const REASON_MAX = 500

function formatCursor(cursor: OptOutCursor): string {
  return `${cursor.createdAt}~${cursor.number}`
}

function parseCursor(value: string): OptOutCursor | null {
  const m = /^(\d{1,15})~([^~]{1,20})$/.exec(value)
  return m ? { createdAt: Number(m[1]), number: m[2] } : null
}

async function readSearch(c: Context<AdminEnv>, input: string): Promise<NumberSearch | null> {
  const national = /^\s*0(?!0)/.test(input)
  const country = national
    ? ((await getAccountSettings(c.get('deps').db, c.get('account').id))?.defaultCountry ?? 'FR')
    : 'FR'
  return parseNumberSearch(input, country)
}

function OptOutTable(props: { l: Labels; lang: Lang; zone: string; base: string; rows: OptOut[] }) {
  const { l, lang, base } = props
  return (
    <table class="opt-outs stack">
      <thead>
        <tr>
          <th scope="col">{l.number}</th>
          <th scope="col">{l.keyword}</th>
          <th scope="col">{l.since}</th>
          <th scope="col">
            <span class="visually-hidden">{l.actions}</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((o) => (
          <tr>
            <td class="mono nowrap" data-label={l.number}>
              {o.number}
            </td>
            <td data-label={l.keyword}>{o.keyword}</td>
            <td data-label={l.since}>{formatDateTime(o.createdAt, lang, props.zone)}</td>
            <td class="actions">
              <a
                href={`${base}/remove?${new URLSearchParams({ number: o.number })}`}
                aria-label={l.removeLabel(o.number)}
              >
                {l.remove}
              </a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function pageLink(base: string, number: string, before: OptOutCursor | null): string {
  const params = new URLSearchParams()
  if (number) params.set('number', number)
  if (before) params.set('before', formatCursor(before))
  const search = params.toString()
  return search ? `${base}?${search}` : base
}

export const optOutsRoutes = new Hono<AdminEnv>()

optOutsRoutes.get('/', async (c) => {
  const lang = c.get('lang')
  const l = t(lang)
  const base = accountPath(c, 'opt-outs')
  const number = (c.req.query('number') ?? '').trim().slice(0, 300)
  const beforeText = (c.req.query('before') ?? '').trim().slice(0, 300)
  const errors: { number?: string; before?: string } = {}
  const search = number === '' ? undefined : await readSearch(c, number)
  if (search === null) errors.number = l.badNumber(number)
  const before = beforeText === '' ? undefined : parseCursor(beforeText)
  if (before === null) errors.before = l.badBefore
  const invalid = Object.keys(errors).length > 0
  const page = invalid
    ? null
    : await listOptOuts(
        c.get('deps').db,
        c.get('account').id,
        { number: search ?? undefined, before: before ?? undefined },
        PAGE_SIZE,
      )
  if (invalid) c.status(400)
  const empty = before ? l.noMore : search ? l.noMatch : l.none
  return c.render(
    <>
      <p>{l.intro}</p>
      <p>{l.startIntro}</p>
      <FilterCard
        id="opt-out-search-title"
        title={l.searchTitle}
        action={base}
        error={errors.before ?? null}
        submit={l.search}
        reset={l.showAll}
      >
        <Field
          name="number"
          label={l.number}
          hint={l.numberHint}
          value={number}
          type="search"
          inputmode="tel"
          maxlength={32}
          autocomplete="off"
          error={errors.number}
        />
      </FilterCard>
      {page && page.rows.length > 0 && (
        <OptOutTable
          l={l}
          lang={lang}
          zone={c.get('account').timeZone}
          base={base}
          rows={page.rows}
        />
      )}
      {page && page.rows.length === 0 && <p class="empty">{empty}</p>}
      <Pager
        label={l.pages}
        first={before ? { href: pageLink(base, number, null), text: l.first } : null}
        next={page?.next ? { href: pageLink(base, number, page.next), text: l.next } : null}
      />
    </>,
    { title: l.title, section: 'opt-outs' },
  )
})

/** The account's opt-out named in the request; another account's is a 404 like a missing one. */
async function requestedOptOut(c: Context<AdminEnv>, number: string): Promise<OptOut> {
  const optOut =
    number === '' || number.length > 20
      ? undefined
      : await findOptOut(c.get('deps').db, c.get('account').id, number)
  if (!optOut) throw new HTTPException(404)
  return optOut
}

function ConfirmPage(props: {
  c: Context<AdminEnv>
  optOut: OptOut
  reason: string
  error?: string
}) {
  const { c, optOut } = props
  const lang = c.get('lang')
  const l = t(lang)
  const account = c.get('account')
  const base = accountPath(c, 'opt-outs')
  return (
    <div class="card confirm">
      <p>
        <strong>{l.confirmQuestion(optOut.number, `${account.name} (${account.ref})`)}</strong>
      </p>
      <dl class="facts">
        <dt>{l.keyword}</dt>
        <dd>{optOut.keyword}</dd>
        <dt>{l.since}</dt>
        <dd>{formatDateTime(optOut.createdAt, lang, account.timeZone)}</dd>
      </dl>
      <p>{l.confirmEffect}</p>
      <form method="post" action={`${base}/remove`}>
        <FormError message={props.error ? l.notRemoved : null} />
        <input type="hidden" name="number" value={optOut.number} />
        <FieldFrame
          id="reason"
          label={l.reason}
          hint={l.reasonHint}
          error={props.error}
          control={(aria) => (
            <textarea
              id="reason"
              name="reason"
              required
              minlength={REASON_MIN}
              maxlength={REASON_MAX}
              rows={3}
              {...aria}
            >
              {props.reason}
            </textarea>
          )}
        />
        <button type="submit" class="danger">
          {l.confirm}
        </button>{' '}
        <a href={base}>{l.cancel}</a>
      </form>
    </div>
  )
}

optOutsRoutes.get('/remove', async (c) => {
  const optOut = await requestedOptOut(c, (c.req.query('number') ?? '').trim())
  return c.render(<ConfirmPage c={c} optOut={optOut} reason="" />, {
    title: t(c.get('lang')).confirmTitle,
    section: 'opt-outs',
  })
})

optOutsRoutes.post('/remove', async (c) => {
  const { db } = c.get('deps')
  const accountId = c.get('account').id
  const l = t(c.get('lang'))
  const body = await c.req.parseBody()
  const optOut = await requestedOptOut(c, formText(body, 'number').trim())
  const reason = formText(body, 'reason').trim()
  const length = Array.from(reason).length
  const error =
    length < REASON_MIN ? l.reasonShort : length > REASON_MAX ? l.reasonLong(length) : undefined
  if (error) {
    c.status(400)
    return c.render(<ConfirmPage c={c} optOut={optOut} reason={reason} error={error} />, {
      title: l.confirmTitle,
      section: 'opt-outs',
    })
  }
  const removed = await db.transaction(async (trx) => {
    if (!(await removeOptOut(trx, accountId, optOut.number))) return false
    await recordAudit(
      c,
      {
        action: 'opt_out.remove',
        subject: optOut.number,
        before: {
          number: optOut.number,
          keyword: optOut.keyword,
          optedOutAt: new Date(optOut.createdAt).toISOString(),
        },
        after: { reason },
      },
      trx,
    )
    return true
  })
  // Removed a moment ago by another request (or by the person's START).
  if (!removed) throw new HTTPException(404)
  await setFlash(c, 'ok', l.removed(optOut.number))
  return c.redirect(accountPath(c, 'opt-outs'), 303)
})
