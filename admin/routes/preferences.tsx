import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { getCountries } from 'libphonenumber-js/max'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { accountPath, loadAccountSettings } from '../account'
import { setFlash } from '../flash'
import { auditedAccountChange } from '../audit'
import { Checkbox, Field, FieldFrame, FormError, formText } from '../components/form'
import { SmsPreviewResult, type PreviewState } from '../components/sms-preview'
import {
  FieldErrors,
  MAX_SIGNATURE_MARKER,
  updatePreferences,
  type AccountSettings,
  type FieldError,
  type PreferencesInput,
} from '../../lib/db/account-settings'
import { MAX_SEGMENT_CAP } from '../../lib/db/accounts'
import { previewSms } from '../../lib/text/preview'
import { timeZoneNames } from '../../lib/time/zone'

const t = defineMessages(
  {
    title: 'Préférences',
    intro:
      "Ces réglages s'appliquent à tous les e-mails envoyés en SMS depuis ce compte, par tous ses utilisateurs.",
    signature: 'Signature',
    signatureHint:
      "Saisissez la première ligne de votre signature d'e-mail (votre nom, par exemple). Cette ligne et tout ce qui la suit sont retirés du SMS, pour ne pas payer des SMS de signature. Le séparateur standard « -- » est toujours reconnu.",
    senderName: "Nom d'émetteur",
    senderNameHint:
      'Le nom affiché comme expéditeur des SMS : 11 caractères au plus, lettres A-Z a-z et chiffres 0-9, sans espace ni accent. Laissez vide pour envoyer depuis le numéro virtuel du compte.',
    country: 'Pays par défaut',
    countryHint:
      'Le pays des numéros écrits sans indicatif (06 12 34 56 78 est lu comme un numéro français si ce pays est la France).',
    commonCountries: 'Pays courants',
    allCountries: 'Tous les pays',
    segmentCap: 'Nombre maximal de SMS par e-mail',
    segmentCapHint: (max: number) =>
      `Un e-mail dont le texte demande plus de SMS que cette limite est refusé, avec la raison, plutôt que d'être envoyé en morceaux (1 à ${max}).`,
    gsmOnly: 'Rester en alphabet GSM (moins cher)',
    gsmOnlyHint:
      "Une seule lettre absente de l'alphabet GSM (ê, ç, œ…) fait passer tout le SMS en UCS-2 : 70 caractères par SMS au lieu de 160. Cochée, la passerelle remplace ces lettres par les plus proches (ê par e, ç par c, œ par oe) ; é, è, à, ù et les autres lettres du GSM restent telles quelles. Un texte avec un émoji ou un alphabet non latin part tel qu'écrit. L'aperçu ci-dessous montre les deux versions.",
    save: 'Sauvegarder',
    saved: 'Préférences sauvegardées.',
    invalid: "Les préférences n'ont pas été sauvegardées : corrigez les champs signalés.",
    previewTitle: 'Aperçu',
    previewIntro:
      "Collez le texte d'un e-mail pour voir le SMS que la passerelle en tirera : citation de la réponse retirée, coupure à la signature, encodage et nombre de SMS, tel qu'écrit et en alphabet GSM. L'aperçu utilise les préférences sauvegardées.",
    previewLabel: "Texte de l'e-mail",
    previewButton: "Afficher l'aperçu",
    errSignatureTooLong: `La ligne de signature fait au plus ${MAX_SIGNATURE_MARKER} caractères.`,
    errSenderNameFormat: (value: string) =>
      `« ${value} » ne convient pas : 11 caractères au plus, lettres A-Z a-z et chiffres 0-9 seulement, sans espace.`,
    errCountryUnknown: (value: string) =>
      `« ${value} » n'est pas un code de pays à deux lettres connu (FR, BE, CH…).`,
    errSegmentCapRange: `Indiquez un nombre entier de 1 à ${MAX_SEGMENT_CAP}.`,
    timeZone: 'Fuseau horaire',
    timeZoneHint:
      'Les jours du graphique du journal des SMS et les dates des pages de ce compte suivent ce fuseau. Chaque SMS est compté le jour de son envoi dans le fuseau choisi à ce moment-là : changer de fuseau ne déplace pas les SMS déjà envoyés.',
    commonTimeZones: 'Fuseaux courants',
    allTimeZones: 'Tous les fuseaux',
    errTimeZoneUnknown: (value: string) =>
      `« ${value} » n’est pas un fuseau horaire connu : choisissez-en un dans la liste (Europe/Paris, UTC…).`,
  },
  {
    title: 'Preferences',
    intro: 'These settings apply to every email sent as SMS from this account, by all its users.',
    signature: 'Signature',
    signatureHint:
      'Type the first line of your email signature (your name, for instance). That line and everything after it are left out of the SMS, so you do not pay for signature text. The standard "-- " delimiter is always recognised.',
    senderName: 'Sender name',
    senderNameHint:
      'The name shown as the sender of the SMS: at most 11 characters, letters A-Z a-z and digits 0-9, no spaces or accents. Leave empty to send from the account’s virtual number.',
    country: 'Default country',
    countryHint:
      'The country of numbers written without a country code (06 12 34 56 78 is read as a French number when this is France).',
    commonCountries: 'Common countries',
    allCountries: 'All countries',
    segmentCap: 'Maximum SMS per email',
    segmentCapHint: (max: number) =>
      `An email whose text needs more SMS than this is refused, with the reason, rather than sent in pieces (1 to ${max}).`,
    gsmOnly: 'Stay in the GSM alphabet (cheaper)',
    gsmOnlyHint:
      'A single letter missing from the GSM alphabet (ê, ç, œ…) makes the whole SMS UCS-2: 70 characters per SMS instead of 160. When ticked, the gateway replaces such letters with the closest ones (ê with e, ç with c, œ with oe); é, è, à, ù and the other GSM letters stay as they are. A text with an emoji or a non-Latin script goes out as written. The preview below shows both versions.',
    save: 'Save',
    saved: 'Preferences saved.',
    invalid: 'The preferences were not saved: correct the fields shown.',
    previewTitle: 'Preview',
    previewIntro:
      'Paste the text of an email to see the SMS the gateway makes of it: quoted reply removed, cut at the signature, encoding and number of SMS, as written and in the GSM alphabet. The preview uses the saved preferences.',
    previewLabel: 'Email text',
    previewButton: 'Show preview',
    errSignatureTooLong: `The signature line is at most ${MAX_SIGNATURE_MARKER} characters.`,
    errSenderNameFormat: (value: string) =>
      `"${value}" will not do: at most 11 characters, letters A-Z a-z and digits 0-9 only, no spaces.`,
    errCountryUnknown: (value: string) =>
      `"${value}" is not a known two-letter country code (FR, GB, US…).`,
    errSegmentCapRange: `Enter a whole number from 1 to ${MAX_SEGMENT_CAP}.`,
    timeZone: 'Time zone',
    timeZoneHint:
      'The days of the SMS log’s chart and the dates on this account’s pages follow this zone. Each SMS is counted on the day it was sent in the zone chosen at that time: changing the zone does not move SMS already sent.',
    commonTimeZones: 'Common zones',
    allTimeZones: 'All zones',
    errTimeZoneUnknown: (value: string) =>
      `"${value}" is not a known time zone: choose one from the list (Europe/London, UTC…).`,
  },
)

type Labels = ReturnType<typeof t>

/** Pasting a whole mailbox is not a preview: the cap keeps the request cheap. */
const MAX_PREVIEW_CHARS = 50_000

// The countries this gateway's users are most likely in, offered first.
const COMMON_COUNTRIES = ['FR', 'BE', 'CH', 'LU', 'MC', 'CA', 'GB', 'IE', 'DE', 'ES', 'IT', 'PT']

const namesByLang = new Map<Lang, Map<string, string>>()

/** Every country libphonenumber knows, named in the page's language: built once per language. */
function countryNames(lang: Lang): Map<string, string> {
  let names = namesByLang.get(lang)
  if (!names) {
    const display = new Intl.DisplayNames([lang], { type: 'region' })
    const named = getCountries().map((code): [string, string] => [code, display.of(code) ?? code])
    named.sort((a, b) => a[1].localeCompare(b[1], lang))
    names = new Map(named)
    namesByLang.set(lang, names)
  }
  return names
}

function errorText(l: Labels, error: FieldError | undefined): string | undefined {
  if (!error) return undefined
  switch (error.problem) {
    case 'signature_too_long':
      return l.errSignatureTooLong
    case 'sender_name_format':
      return l.errSenderNameFormat(error.value)
    case 'country_unknown':
      return l.errCountryUnknown(error.value)
    case 'segment_cap_range':
      return l.errSegmentCapRange
    case 'time_zone_unknown':
      return l.errTimeZoneUnknown(error.value)
    default:
      return error.message
  }
}

function formValues(s: AccountSettings): PreferencesInput {
  return {
    signatureMarker: s.signatureMarker ?? '',
    senderName: s.senderName ?? '',
    defaultCountry: s.defaultCountry,
    segmentCap: String(s.segmentCap),
    gsmOnly: s.gsmOnly,
    timeZone: s.timeZone,
  }
}

// The zones this gateway's users are most likely in (France and its overseas departments,
// its neighbours, Quebec), offered first.
const COMMON_TIME_ZONES = [
  'UTC',
  'Europe/Paris',
  'Europe/Brussels',
  'Europe/Zurich',
  'Europe/Luxembourg',
  'Europe/Monaco',
  'Europe/London',
  'Europe/Dublin',
  'Europe/Berlin',
  'Europe/Madrid',
  'Europe/Rome',
  'Europe/Lisbon',
  'America/Toronto',
  'America/Guadeloupe',
  'America/Martinique',
  'America/Cayenne',
  'Indian/Reunion',
  'Indian/Mayotte',
  'Pacific/Noumea',
  'Pacific/Tahiti',
]

/** "America/Port_of_Spain" as people read it. */
const zoneLabel = (zone: string): string => zone.replace(/_/g, ' ')

function TimeZoneSelect(props: { l: Labels; value: string; error?: string }) {
  const { l, value, error } = props
  const all = timeZoneNames()
  const common = COMMON_TIME_ZONES.filter((z) => all.includes(z))
  const option = (zone: string) => (
    <option value={zone} selected={zone === value}>
      {zoneLabel(zone)}
    </option>
  )
  return (
    <FieldFrame
      id="timeZone"
      label={l.timeZone}
      hint={l.timeZoneHint}
      error={error}
      control={(aria) => (
        <select id="timeZone" name="timeZone" {...aria}>
          {!all.includes(value) && (
            <option value={value} selected>
              {value}
            </option>
          )}
          <optgroup label={l.commonTimeZones}>{common.map(option)}</optgroup>
          <optgroup label={l.allTimeZones}>
            {all.filter((z) => !common.includes(z)).map(option)}
          </optgroup>
        </select>
      )}
    />
  )
}

function CountrySelect(props: { l: Labels; lang: Lang; value: string; error?: string }) {
  const { l, lang, value, error } = props
  const names = countryNames(lang)
  const option = (code: string) => (
    <option value={code} selected={code === value}>
      {names.get(code) ?? code} ({code})
    </option>
  )
  const others = [...names.keys()].filter((code) => !COMMON_COUNTRIES.includes(code))
  const known = names.has(value)
  return (
    <FieldFrame
      id="defaultCountry"
      label={l.country}
      hint={l.countryHint}
      error={error}
      control={(aria) => (
        <select id="defaultCountry" name="defaultCountry" {...aria}>
          {!known && (
            <option value={value} selected>
              {value}
            </option>
          )}
          <optgroup label={l.commonCountries}>{COMMON_COUNTRIES.map(option)}</optgroup>
          <optgroup label={l.allCountries}>{others.map(option)}</optgroup>
        </select>
      )}
    />
  )
}

interface PageState {
  values: PreferencesInput
  errors?: FieldErrors
  email: string
  preview: PreviewState
}

function PreferencesPage(props: { lang: Lang; base: string; state: PageState }) {
  const { lang, base, state } = props
  const l = t(lang)
  const v = state.values
  const error = (field: keyof PreferencesInput) => errorText(l, state.errors?.forField(field))
  return (
    <>
      <p>{l.intro}</p>
      <form method="post" action={base} class="preferences">
        <FormError message={state.errors ? l.invalid : null} />
        <Field
          name="signatureMarker"
          label={l.signature}
          hint={l.signatureHint}
          value={v.signatureMarker}
          maxlength={MAX_SIGNATURE_MARKER}
          error={error('signatureMarker')}
        />
        <Field
          name="senderName"
          label={l.senderName}
          hint={l.senderNameHint}
          value={v.senderName}
          maxlength={11}
          autocomplete="off"
          error={error('senderName')}
        />
        <CountrySelect
          l={l}
          lang={lang}
          value={v.defaultCountry.trim().toUpperCase()}
          error={error('defaultCountry')}
        />
        <Field
          name="segmentCap"
          label={l.segmentCap}
          hint={l.segmentCapHint(MAX_SEGMENT_CAP)}
          type="number"
          inputmode="numeric"
          value={String(v.segmentCap)}
          error={error('segmentCap')}
        />
        <Checkbox
          name="gsmOnly"
          label={l.gsmOnly}
          hint={l.gsmOnlyHint}
          checked={v.gsmOnly === true}
        />
        <TimeZoneSelect l={l} value={v.timeZone ?? 'UTC'} error={error('timeZone')} />
        <button type="submit" class="primary">
          {l.save}
        </button>
      </form>

      <section class="preview" aria-labelledby="preview-title">
        <h2 id="preview-title">{l.previewTitle}</h2>
        <p>{l.previewIntro}</p>
        <form method="post" action={`${base}/preview`} data-sms-preview="live">
          <div class="field">
            <label for="preview-email">{l.previewLabel}</label>
            <textarea id="preview-email" name="email" rows={10} maxlength={MAX_PREVIEW_CHARS}>
              {state.email}
            </textarea>
          </div>
          <button type="submit">{l.previewButton}</button>
        </form>
        <SmsPreviewResult lang={lang} state={state.preview} />
      </section>
      <script src="/assets/preview.js" defer />
    </>
  )
}

function render(c: Context<AdminEnv>, state: PageState) {
  const lang = c.get('lang')
  return c.render(
    <PreferencesPage lang={lang} base={accountPath(c, 'preferences')} state={state} />,
    {
      title: t(lang).title,
      section: 'preferences',
    },
  )
}

export const preferencesRoutes = new Hono<AdminEnv>()

preferencesRoutes.get('/', async (c) => {
  const settings = await loadAccountSettings(c)
  return render(c, { values: formValues(settings), email: '', preview: { kind: 'none' } })
})

preferencesRoutes.post('/', async (c) => {
  const { clock } = c.get('deps')
  const body = await c.req.parseBody()
  const values: PreferencesInput = {
    signatureMarker: formText(body, 'signatureMarker'),
    senderName: formText(body, 'senderName'),
    defaultCountry: formText(body, 'defaultCountry'),
    segmentCap: formText(body, 'segmentCap'),
    // An unticked checkbox is not posted at all.
    gsmOnly: body.gsmOnly !== undefined,
    // A form from before the zone was on the page leaves it as it is.
    timeZone: typeof body.timeZone === 'string' ? body.timeZone : undefined,
  }
  try {
    const saved = await auditedAccountChange(c, 'preferences.update', (trx) =>
      updatePreferences(trx, c.get('account').id, values, clock()),
    )
    if (!saved) {
      throw new HTTPException(404)
    }
  } catch (err) {
    if (!(err instanceof FieldErrors)) throw err
    c.status(400)
    return render(c, { values, errors: err, email: '', preview: { kind: 'none' } })
  }
  await setFlash(c, 'ok', t(c.get('lang')).saved)
  return c.redirect(accountPath(c, 'preferences'), 303)
})

// A reload or a bookmark of the preview's address lands on the page itself.
preferencesRoutes.get('/preview', (c) => c.redirect(accountPath(c, 'preferences'), 302))

/**
 * The preview, with the saved marker, cap and GSM setting. From the page's script (X-Requested-With: fetch)
 * only the result box is returned, to be swapped in; from a plain form post, the whole page.
 */
preferencesRoutes.post('/preview', async (c) => {
  const settings = await loadAccountSettings(c)
  const email = formText(await c.req.parseBody(), 'email')
  const preview: PreviewState =
    email.length > MAX_PREVIEW_CHARS
      ? { kind: 'tooLong', max: MAX_PREVIEW_CHARS }
      : email.trim() === ''
        ? { kind: 'none' }
        : { kind: 'result', preview: previewSms(email, settings) }
  if (c.req.header('x-requested-with') === 'fetch') {
    return c.html(<SmsPreviewResult lang={c.get('lang')} state={preview} />)
  }
  return render(c, {
    values: formValues(settings),
    email: email.slice(0, MAX_PREVIEW_CHARS),
    preview,
  })
})
