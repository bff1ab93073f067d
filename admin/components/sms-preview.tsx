import type { Lang } from '../env'
import { defineMessages } from '../i18n'
import type { SmsPreview } from '../../lib/text/preview'

/** The id the page and admin/assets/preview.js agree on: the script swaps this element. */
const PREVIEW_RESULT_ID = 'sms-preview-result'

const t = defineMessages(
  {
    heading: 'Le SMS envoyé',
    nothingYet: "Collez le texte d'un e-mail ci-dessus pour voir le SMS qui en sera tiré.",
    empty:
      'Il ne reste rien à envoyer : tout le texte est dans la citation ou après la signature. La passerelle refuserait cet e-mail.',
    encoding: 'Encodage',
    characters: 'Caractères',
    segments: 'SMS',
    segmentCount: (segments: number, perSegment: number) =>
      `${segments} SMS de ${perSegment} caractères au plus`,
    gsm7: 'GSM-7 : 160 caractères pour un SMS seul, 153 par SMS quand le texte en demande plusieurs.',
    ucs2: 'UCS-2 : 70 caractères pour un SMS seul, 67 par SMS quand le texte en demande plusieurs.',
    culprits: "Caractères qui imposent l'UCS-2 (surlignés dans le texte) :",
    position: (position: number) => `position ${position}`,
    culpritHint:
      'Remplacez-les (ê par e ou é, par exemple) pour revenir au GSM-7 et envoyer plus de texte par SMS.',
    overCap: (segments: number, cap: number) =>
      `Ce texte demande ${segments} SMS et le compte en autorise ${cap} au plus : la passerelle refuserait cet e-mail. Raccourcissez-le ou augmentez la limite.`,
    tooLong: (max: number) =>
      `Le texte collé est trop long pour l'aperçu (${max} caractères au plus).`,
  },
  {
    heading: 'The SMS sent',
    nothingYet: 'Paste the text of an email above to see the SMS it becomes.',
    empty:
      'Nothing is left to send: all the text is in the quote or after the signature. The gateway would refuse this email.',
    encoding: 'Encoding',
    characters: 'Characters',
    segments: 'SMS',
    segmentCount: (segments: number, perSegment: number) =>
      `${segments} SMS of at most ${perSegment} characters`,
    gsm7: 'GSM-7: 160 characters for a single SMS, 153 per SMS when the text needs several.',
    ucs2: 'UCS-2: 70 characters for a single SMS, 67 per SMS when the text needs several.',
    culprits: 'Characters that force UCS-2 (highlighted in the text):',
    position: (position: number) => `position ${position}`,
    culpritHint:
      'Replace them (ê with e or é, for instance) to get back to GSM-7 and more text per SMS.',
    overCap: (segments: number, cap: number) =>
      `This text needs ${segments} SMS and the account allows at most ${cap}: the gateway would refuse this email. Shorten it or raise the limit.`,
    tooLong: (max: number) =>
      `The pasted text is too long for the preview (at most ${max} characters).`,
  },
)

export type PreviewState =
  { kind: 'none' } | { kind: 'tooLong'; max: number } | { kind: 'result'; preview: SmsPreview }

/** How a culprit is named: invisible ones (joiners, selectors) only by their code point. */
function culpritLabel(char: string, codePoint: string): string {
  return /^[\p{L}\p{N}\p{P}\p{S}]+$/u.test(char) ? `${char} (${codePoint})` : codePoint
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
  return (
    <>
      <h3>{l.heading}</h3>
      <pre class="sms-text">
        {p.pieces.map((piece) => (piece.ucs2 ? <mark>{piece.text}</mark> : piece.text))}
      </pre>
      <dl class="sms-facts">
        <dt>{l.encoding}</dt>
        <dd data-encoding={p.encoding}>
          <strong>{p.encoding}</strong> – {p.encoding === 'GSM-7' ? l.gsm7 : l.ucs2}
        </dd>
        <dt>{l.characters}</dt>
        <dd data-characters={String(p.characters)}>{p.characters}</dd>
        <dt>{l.segments}</dt>
        <dd data-segments={String(p.segments)}>{l.segmentCount(p.segments, p.perSegment)}</dd>
      </dl>
      {p.ucs2Culprits.length > 0 && (
        <div class="sms-culprits">
          <p>{l.culprits}</p>
          <ul>
            {p.ucs2Culprits.map((c) => (
              <li>
                <mark>{culpritLabel(c.char, c.codePoint)}</mark>, {l.position(c.position + 1)}
              </li>
            ))}
          </ul>
          <p>{l.culpritHint}</p>
        </div>
      )}
      {p.overCap && (
        <p class="warning" role="alert">
          {l.overCap(p.segments, p.segmentCap)}
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
