import type { Lang } from '../env'
import { defineMessages } from '../i18n'
import type { Child } from 'hono/jsx'
import type { SmsPreview, SmsVersion, Ucs2Culprit } from '../../lib/text/preview'

/** The id the page and admin/assets/preview.js agree on: the script swaps this element. */
const PREVIEW_RESULT_ID = 'sms-preview-result'

const t = defineMessages(
  {
    heading: 'Le SMS envoyé',
    nothingYet: "Collez le texte d'un e-mail ci-dessus pour voir le SMS qui en sera tiré.",
    empty:
      'Il ne reste rien à envoyer : tout le texte est dans la citation ou après la signature. La passerelle refuserait cet e-mail.',
    encoding: 'Encodage',
    length: 'Longueur',
    size: (characters: number, units: number, unit: string) =>
      `${characters} ${characters > 1 ? 'caractères' : 'caractère'} (${units} ${units > 1 ? 'unités' : 'unité'} ${unit})`,
    segments: 'SMS',
    segmentCount: (segments: number, perSegment: number, unit: string) =>
      `${segments} SMS de ${perSegment} unités ${unit} au plus`,
    gsmUnit: 'GSM',
    ucs2Unit: 'UCS-2',
    gsm7: 'GSM-7 : 160 unités pour un SMS seul, 153 par SMS quand le texte en demande plusieurs. Chaque caractère compte pour une unité, sauf € [ ] { } ^ ~ \\ | qui en comptent deux.',
    ucs2: 'UCS-2 : 70 unités pour un SMS seul, 67 par SMS quand le texte en demande plusieurs. Chaque caractère compte pour une unité, sauf les émojis et quelques caractères rares qui en comptent deux.',
    unsplit:
      'Un caractère de deux unités n’est jamais coupé entre deux SMS : il passe entier au suivant, ce qui laisse une unité libre à la fin du précédent.',
    culprits: "Caractères qui imposent l'UCS-2 (surlignés dans le texte) :",
    position: (position: number) => `position ${position}`,
    culpritHint:
      'Remplacez-les (ê par e ou é, par exemple) pour revenir au GSM-7 et envoyer plus de texte par SMS.',
    overCap: (segments: number, cap: number) =>
      `Ce texte demande ${segments} SMS et le compte en autorise ${cap} au plus : la passerelle refuserait cet e-mail. Raccourcissez-le ou augmentez la limite.`,
    tooLong: (max: number) =>
      `Le texte collé est trop long pour l'aperçu (${max} caractères au plus).`,
    writtenHeading: 'Tel qu’écrit',
    gsmHeading: 'En alphabet GSM',
    sent: 'Envoyé par la passerelle',
    notSent: 'Non envoyé',
    replaced: 'Lettres remplacées :',
    removed: 'retiré',
    saving: (written: number, gsm: number) =>
      gsm < written
        ? `En alphabet GSM : ${gsm} SMS au lieu de ${written} par destinataire.`
        : `En alphabet GSM : ${gsm} SMS par destinataire, comme tel qu’écrit, mais avec plus de place libre.`,
    sendsGsm:
      'Le réglage « Rester en alphabet GSM » est activé : la passerelle envoie la version en alphabet GSM.',
    sendsWritten:
      'Le réglage « Rester en alphabet GSM » est désactivé : la passerelle envoie le texte tel qu’écrit. Activez-le ci-dessus pour envoyer la version en alphabet GSM.',
    unfoldable:
      "Ces caractères n'ont pas d'équivalent dans l'alphabet GSM : même avec le réglage « Rester en alphabet GSM », le SMS reste en UCS-2 et part tel qu’écrit.",
    noGain:
      'En alphabet GSM, ce texte demanderait plus de SMS : il part tel qu’écrit, même avec le réglage « Rester en alphabet GSM ».',
  },
  {
    heading: 'The SMS sent',
    nothingYet: 'Paste the text of an email above to see the SMS it becomes.',
    empty:
      'Nothing is left to send: all the text is in the quote or after the signature. The gateway would refuse this email.',
    encoding: 'Encoding',
    length: 'Length',
    size: (characters: number, units: number, unit: string) =>
      `${characters} ${characters === 1 ? 'character' : 'characters'} (${units} ${unit} ${units === 1 ? 'unit' : 'units'})`,
    segments: 'SMS',
    segmentCount: (segments: number, perSegment: number, unit: string) =>
      `${segments} SMS of at most ${perSegment} ${unit} units`,
    gsmUnit: 'GSM',
    ucs2Unit: 'UCS-2',
    gsm7: 'GSM-7: 160 units for a single SMS, 153 per SMS when the text needs several. Each character counts as one unit, except € [ ] { } ^ ~ \\ | which count as two.',
    ucs2: 'UCS-2: 70 units for a single SMS, 67 per SMS when the text needs several. Each character counts as one unit, except emoji and a few rare characters, which count as two.',
    unsplit:
      'A two-unit character is never cut between two SMS: it goes whole into the next one, which leaves a unit free at the end of the one before.',
    culprits: 'Characters that force UCS-2 (highlighted in the text):',
    position: (position: number) => `position ${position}`,
    culpritHint:
      'Replace them (ê with e or é, for instance) to get back to GSM-7 and more text per SMS.',
    overCap: (segments: number, cap: number) =>
      `This text needs ${segments} SMS and the account allows at most ${cap}: the gateway would refuse this email. Shorten it or raise the limit.`,
    tooLong: (max: number) =>
      `The pasted text is too long for the preview (at most ${max} characters).`,
    writtenHeading: 'As written',
    gsmHeading: 'In the GSM alphabet',
    sent: 'Sent by the gateway',
    notSent: 'Not sent',
    replaced: 'Letters replaced:',
    removed: 'removed',
    saving: (written: number, gsm: number) =>
      gsm < written
        ? `In the GSM alphabet: ${gsm} SMS instead of ${written} per recipient.`
        : `In the GSM alphabet: ${gsm} SMS per recipient, as written, but with more room left.`,
    sendsGsm:
      'The "Stay in the GSM alphabet" setting is on: the gateway sends the GSM alphabet version.',
    sendsWritten:
      'The "Stay in the GSM alphabet" setting is off: the gateway sends the text as written. Turn it on above to send the GSM alphabet version.',
    unfoldable:
      'These characters have no equivalent in the GSM alphabet: even with "Stay in the GSM alphabet", the SMS stays UCS-2 and goes out as written.',
    noGain:
      'In the GSM alphabet this text would need more SMS: it goes out as written, even with "Stay in the GSM alphabet".',
  },
)

type Labels = ReturnType<typeof t>

export type PreviewState =
  { kind: 'none' } | { kind: 'tooLong'; max: number } | { kind: 'result'; preview: SmsPreview }

/** How a culprit is named: invisible ones (joiners, selectors) only by their code point. */
function culpritLabel(char: string, codePoint: string): string {
  return /^[\p{L}\p{N}\p{P}\p{S}]+$/u.test(char) ? `${char} (${codePoint})` : codePoint
}

/** A lone combining accent (what folding removes) is named by its code point alone. */
function describeChar(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

function Culprits(props: { l: Labels; culprits: Ucs2Culprit[]; intro: string; hint?: string }) {
  const { l } = props
  return (
    <div class="sms-culprits">
      <p>{props.intro}</p>
      <ul>
        {props.culprits.map((c) => (
          <li>
            <mark>{culpritLabel(c.char, c.codePoint)}</mark>, {l.position(c.position + 1)}
          </li>
        ))}
      </ul>
      {props.hint && <p>{props.hint}</p>}
    </div>
  )
}

/** The text with its UCS-2 characters highlighted, and what it costs. */
function Version(props: { l: Labels; version: SmsVersion }) {
  const { l, version: v } = props
  // The limits count these units, not characters: showing characters beside "160 per SMS"
  // made a 68-character text with emoji look like it should fit in one UCS-2 SMS.
  const unit = v.encoding === 'GSM-7' ? l.gsmUnit : l.ucs2Unit
  return (
    <>
      <pre class="sms-text">
        {v.pieces.map((piece) => (piece.ucs2 ? <mark>{piece.text}</mark> : piece.text))}
      </pre>
      <dl class="sms-facts">
        <dt>{l.encoding}</dt>
        <dd data-encoding={v.encoding}>
          <strong>{v.encoding}</strong> – {v.encoding === 'GSM-7' ? l.gsm7 : l.ucs2}
        </dd>
        <dt>{l.length}</dt>
        <dd data-characters={String(v.characters)} data-units={String(v.units)}>
          {l.size(v.characters, v.units, unit)}
        </dd>
        <dt>{l.segments}</dt>
        <dd data-segments={String(v.segments)} data-per-segment={String(v.perSegment)}>
          {l.segmentCount(v.segments, v.perSegment, unit)}
        </dd>
      </dl>
      {v.segments > Math.ceil(v.units / v.perSegment) && <p class="help">{l.unsplit}</p>}
    </>
  )
}

/** One of the two columns when folding changes the text; `sent` marks the one the MX sends. */
function Column(props: {
  l: Labels
  name: 'written' | 'gsm'
  heading: string
  version: SmsVersion
  sent: boolean
  children?: Child
}) {
  const { l } = props
  return (
    <div class="sms-version" data-version={props.name} data-sent={String(props.sent)}>
      <h3>{props.heading}</h3>
      <p class={props.sent ? 'sms-sent' : 'sms-not-sent'}>{props.sent ? l.sent : l.notSent}</p>
      <Version l={l} version={props.version} />
      {props.children}
    </div>
  )
}

function Result(props: { lang: Lang; preview: SmsPreview }) {
  const l = t(props.lang)
  const p = props.preview
  if (p.empty) {
    return (
      <p class="warning" role="alert">
        {l.empty}
      </p>
    )
  }
  const sent = p.sends === 'gsm' ? p.gsm : p.written
  if (!p.folded) {
    return (
      <>
        <h3>{l.heading}</h3>
        <Version l={l} version={p.written} />
        {p.unfoldable.length > 0 ? (
          <Culprits l={l} culprits={p.unfoldable} intro={l.unfoldable} />
        ) : (
          p.written.ucs2Culprits.length > 0 && (
            <>
              <Culprits
                l={l}
                culprits={p.written.ucs2Culprits}
                intro={l.culprits}
                hint={l.culpritHint}
              />
              <p class="help">{l.noGain}</p>
            </>
          )
        )}
        {sent.overCap && (
          <p class="warning" role="alert">
            {l.overCap(sent.segments, p.segmentCap)}
          </p>
        )}
      </>
    )
  }
  return (
    <>
      <div class="sms-versions">
        <Column
          l={l}
          name="written"
          heading={l.writtenHeading}
          version={p.written}
          sent={p.sends === 'written'}
        >
          <Culprits l={l} culprits={p.written.ucs2Culprits} intro={l.culprits} />
        </Column>
        <Column l={l} name="gsm" heading={l.gsmHeading} version={p.gsm} sent={p.sends === 'gsm'}>
          <p class="sms-replacements">
            {l.replaced}{' '}
            {p.replacements.map((r, i) => (
              <>
                {i > 0 && ', '}
                <span data-replacement={r.from}>
                  {r.to === '' ? `${describeChar(r.from)} → ${l.removed}` : `${r.from} → ${r.to}`}
                </span>
              </>
            ))}
          </p>
        </Column>
      </div>
      <p class="sms-saving" data-saving={String(p.written.segments - p.gsm.segments)}>
        {l.saving(p.written.segments, p.gsm.segments)}
      </p>
      <p class="help" data-sends={p.sends}>
        {p.sends === 'gsm' ? l.sendsGsm : l.sendsWritten}
      </p>
      {sent.overCap && (
        <p class="warning" role="alert">
          {l.overCap(sent.segments, p.segmentCap)}
        </p>
      )}
    </>
  )
}

/**
 * The result box of "Aperçu". The page renders it whole; the live preview asks for it alone and
 * replaces the one on the page, so both ways show exactly the same markup.
 */
export function SmsPreviewResult(props: { lang: Lang; state: PreviewState }) {
  const l = t(props.lang)
  const { state } = props
  return (
    <section id={PREVIEW_RESULT_ID} class="sms-preview" aria-live="polite">
      {state.kind === 'none' && <p class="help">{l.nothingYet}</p>}
      {state.kind === 'tooLong' && (
        <p class="warning" role="alert">
          {l.tooLong(state.max)}
        </p>
      )}
      {state.kind === 'result' && <Result lang={props.lang} preview={state.preview} />}
    </section>
  )
}
