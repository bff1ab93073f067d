import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { accountPath } from '../account'
import { setFlash } from '../flash'
import { auditedAccountChange } from '../audit'
import { FieldFrame, FormError, formText } from '../components/form'
import { DEFAULT_LIMITS, type LimitsConfig } from '../../lib/config'
import {
  findAccountByRef,
  MAX_DESTINATIONS_TEXT,
  updateAccountLimits,
  ValidationError,
  type Account,
  type AccountLimitsPatch,
  type LimitSetting,
} from '../../lib/db/accounts'
import { readCounters } from '../../lib/db/usage-counters'
import { effectiveDestinations, parseDestinationList } from '../../lib/limits/destinations'
import { quotaCounterKey, spendWindows } from '../../lib/limits/spend'

const t = defineMessages(
  {
    title: "Limites d'envoi",
    intro:
      'Ces limites protègent le compte des dépenses imprévues. Les emails qui les dépassent sont refusés avec un message qui dit pourquoi et quand la limite se réinitialise (heure UTC).',
    operatorOnly: "Seul l'opérateur de la passerelle peut les modifier.",
    limit: 'Limite',
    inForce: 'En vigueur',
    used: 'Utilisé',
    smsPerMinute: 'SMS par minute (compte)',
    senderSmsPerMinute: 'SMS par minute (par utilisateur)',
    segmentsPerDay: 'Segments SMS par jour',
    segmentsPerMonth: 'Segments SMS par mois',
    destinations: 'Destinations autorisées',
    none: 'aucune limite',
    byDefault: '(par défaut)',
    sms: (n: number) => `${n} SMS`,
    segments: (n: number) => `${n} segments`,
    edit: 'Modifier les limites (opérateur)',
    editHint:
      'Laissez un champ vide pour suivre la valeur par défaut de la passerelle ; 0 supprime la limite.',
    destinationsHint:
      'Pays (codes ISO comme BE, CH) ou préfixes (+881) en plus du pays du compte, séparés par des virgules. Les numéros satellites et non géographiques ne sont ouverts que par un préfixe. Vide : la valeur par défaut.',
    save: 'Sauvegarder',
    saved: 'Limites sauvegardées.',
    invalid: "Les limites n'ont pas été sauvegardées : ",
    notNumber: (field: string) => `« ${field} » doit être un nombre entier (0 : aucune limite).`,
    badDestination: (entry: string) =>
      `« ${entry} » n'est ni un code pays (comme BE ou CH) ni un préfixe (comme +881).`,
    tooManyDestinations: (count: number) =>
      `Cette liste de ${count} destinations est trop longue (${MAX_DESTINATIONS_TEXT} caractères au plus une fois rangée) : regroupez des pays sous un préfixe, ou laissez le champ vide pour la valeur par défaut.`,
  },
  {
    title: 'Sending limits',
    intro:
      'These limits protect the account from unexpected spending. Emails over them are refused with a message saying why and when the limit resets (UTC).',
    operatorOnly: 'Only the operator of the gateway can change them.',
    limit: 'Limit',
    inForce: 'In force',
    used: 'Used',
    smsPerMinute: 'SMS per minute (account)',
    senderSmsPerMinute: 'SMS per minute (per user)',
    segmentsPerDay: 'SMS segments per day',
    segmentsPerMonth: 'SMS segments per month',
    destinations: 'Allowed destinations',
    none: 'no limit',
    byDefault: '(default)',
    sms: (n: number) => `${n} SMS`,
    segments: (n: number) => `${n} segments`,
    edit: 'Change the limits (operator)',
    editHint: "Leave a field empty to follow the gateway's default; 0 removes the limit.",
    destinationsHint:
      "Countries (ISO codes such as BE, CH) or prefixes (+881) besides the account's country, separated by commas. Satellite and non-geographic numbers are only opened by a prefix. Empty: the default.",
    save: 'Save',
    saved: 'Limits saved.',
    invalid: 'The limits were not saved: ',
    notNumber: (field: string) => `"${field}" must be a whole number (0: no limit).`,
    badDestination: (entry: string) =>
      `"${entry}" is neither a country code (such as BE or CH) nor a prefix (such as +881).`,
    tooManyDestinations: (count: number) =>
      `This list of ${count} destinations is too long (at most ${MAX_DESTINATIONS_TEXT} characters once stored): group countries under a prefix, or leave the field empty for the default.`,
  },
)

type Labels = ReturnType<typeof t>

const NUMBER_FIELDS = [
  'smsPerMinute',
  'senderSmsPerMinute',
  'segmentsPerDay',
  'segmentsPerMonth',
] as const
type NumberField = (typeof NUMBER_FIELDS)[number]

const DEFAULT_OF: Record<NumberField, keyof LimitsConfig> = {
  smsPerMinute: 'accountSmsPerMinute',
  senderSmsPerMinute: 'senderSmsPerMinute',
  segmentsPerDay: 'segmentsPerDay',
  segmentsPerMonth: 'segmentsPerMonth',
}

export interface Usage {
  day: number
  month: number
}

/** Today's and this month's segments against the quotas (UTC windows, as the MX counts them). */
export async function quotaUse(c: Context<AdminEnv>, account: Account): Promise<Usage> {
  const w = spendWindows(c.get('deps').clock(), 1)
  const day = quotaCounterKey(account.id, w.day)
  const month = quotaCounterKey(account.id, w.month)
  const { counters } = await readCounters(c.get('deps').db, [day, month], [])
  return { day: counters.get(day) ?? 0, month: counters.get(month) ?? 0 }
}

function LimitsTable(props: { l: Labels; account: Account; defaults: LimitsConfig; usage: Usage }) {
  const { l, account, defaults, usage } = props
  const row = (field: NumberField, unit: (n: number) => string, used?: number) => {
    const own = account.limits[field]
    const value = own ?? (defaults[DEFAULT_OF[field]] as number)
    const percent =
      used !== undefined && value > 0 ? ` (${Math.floor((used * 100) / value)} %)` : ''
    return (
      <tr>
        <th scope="row">{l[field]}</th>
        <td>
          {value === 0 ? l.none : unit(value)} {own === null && <small>{l.byDefault}</small>}
        </td>
        <td>{used === undefined ? '' : `${unit(used)}${percent}`}</td>
      </tr>
    )
  }
  const listed = account.limits.allowedDestinations
  return (
    <table class="limits">
      <thead>
        <tr>
          <th scope="col">{l.limit}</th>
          <th scope="col">{l.inForce}</th>
          <th scope="col">{l.used}</th>
        </tr>
      </thead>
      <tbody>
        {row('smsPerMinute', l.sms)}
        {row('senderSmsPerMinute', l.sms)}
        {row('segmentsPerDay', l.segments, usage.day)}
        {row('segmentsPerMonth', l.segments, usage.month)}
        <tr>
          <th scope="row">{l.destinations}</th>
          <td>
            {effectiveDestinations(
              account.defaultCountry,
              listed ?? defaults.allowedDestinations,
            ).join(', ')}{' '}
            {listed === null && <small>{l.byDefault}</small>}
          </td>
          <td />
        </tr>
      </tbody>
    </table>
  )
}

type FormValues = Record<NumberField | 'destinations', string>

function formValues(account: Account): FormValues {
  const show = (v: number | null) => (v === null ? '' : String(v))
  return {
    smsPerMinute: show(account.limits.smsPerMinute),
    senderSmsPerMinute: show(account.limits.senderSmsPerMinute),
    segmentsPerDay: show(account.limits.segmentsPerDay),
    segmentsPerMonth: show(account.limits.segmentsPerMonth),
    destinations: account.limits.allowedDestinations?.join(', ') ?? '',
  }
}

function OperatorForm(props: { l: Labels; action: string; values: FormValues; error?: string }) {
  const { l, values } = props
  return (
    <form method="post" action={props.action} class="limits-form">
      <h2>{l.edit}</h2>
      <p>{l.editHint}</p>
      <FormError message={props.error ? `${l.invalid}${props.error}` : null} />
      {NUMBER_FIELDS.map((field) => (
        <FieldFrame
          id={field}
          label={l[field]}
          control={(aria) => (
            <input
              type="text"
              inputmode="numeric"
              id={field}
              name={field}
              value={values[field]}
              autocomplete="off"
              {...aria}
            />
          )}
        />
      ))}
      <FieldFrame
        id="destinations"
        label={l.destinations}
        hint={l.destinationsHint}
        control={(aria) => (
          <input
            type="text"
            id="destinations"
            name="destinations"
            value={values.destinations}
            autocomplete="off"
            {...aria}
          />
        )}
      />
      <button type="submit" class="primary">
        {l.save}
      </button>
    </form>
  )
}

async function currentAccount(c: Context<AdminEnv>): Promise<Account> {
  const account = await findAccountByRef(c.get('deps').db, c.get('account').ref)
  if (!account) throw new HTTPException(404)
  return account
}

async function render(
  c: Context<AdminEnv>,
  lang: Lang,
  form?: { values: FormValues; error: string },
) {
  const l = t(lang)
  const account = await currentAccount(c)
  const defaults = c.get('deps').limits ?? DEFAULT_LIMITS
  const operator = c.get('admin').isOperator
  const page = (
    <>
      <p>{l.intro}</p>
      <LimitsTable l={l} account={account} defaults={defaults} usage={await quotaUse(c, account)} />
      {operator ? (
        <OperatorForm
          l={l}
          action={accountPath(c, 'limits')}
          values={form?.values ?? formValues(account)}
          error={form?.error}
        />
      ) : (
        <p class="notice">{l.operatorOnly}</p>
      )}
    </>
  )
  return c.render(page, { title: l.title, section: 'limits' })
}

/** An empty field follows the default; otherwise a whole number, 0 meaning no limit. */
function readSetting(l: Labels, label: string, text: string): LimitSetting {
  const value = text.trim()
  if (value === '') return 'default'
  if (!/^\d{1,9}$/.test(value)) throw new ValidationError(l.notNumber(label))
  return Number(value)
}

export const limitsRoutes = new Hono<AdminEnv>()

limitsRoutes.get('/', (c) => render(c, c.get('lang')))

/** Operators only: account admins see the limits but spending is not theirs to raise. */
limitsRoutes.post('/', async (c) => {
  if (!c.get('admin').isOperator) throw new HTTPException(403)
  const lang = c.get('lang')
  const l = t(lang)
  const body = await c.req.parseBody()
  const values = Object.fromEntries(
    [...NUMBER_FIELDS, 'destinations'].map((f) => [f, formText(body, f)]),
  ) as FormValues
  try {
    const destinations = parseDestinationList(values.destinations)
    if (!destinations.ok) throw new ValidationError(l.badDestination(destinations.entry))
    // The same bound as updateAccountLimits, checked here to say it in the page's language.
    if (destinations.entries.join(',').length > MAX_DESTINATIONS_TEXT) {
      throw new ValidationError(l.tooManyDestinations(destinations.entries.length))
    }
    const patch: AccountLimitsPatch = {
      allowedDestinations: values.destinations.trim() ? destinations.entries.join(',') : 'default',
    }
    for (const field of NUMBER_FIELDS) patch[field] = readSetting(l, l[field], values[field])
    const { clock } = c.get('deps')
    await auditedAccountChange(c, 'limits.update', (trx) =>
      updateAccountLimits(trx, c.get('account').id, patch, clock()),
    )
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err
    c.status(400)
    return render(c, lang, { values, error: err.message })
  }
  await setFlash(c, 'ok', l.saved)
  return c.redirect(accountPath(c, 'limits'), 303)
})
