/**
 * What became of each part of a partly delivered SMS, for its failure notice: which parts
 * arrived, and which did not and why, from its outbound_sms_parts rows.
 */

/** A part's row as the worker keeps it (outbound_sms_parts.state). */
export type PartState = 'sent' | 'delivered' | 'undeliverable' | 'expired' | 'refused'

export interface PartsReport {
  /** The SMS's number of parts (submit_sm PDUs). */
  count: number
  /** Each part's state by its number from 1. A part without a row never had an outcome. */
  states: ReadonlyMap<number, string>
}

/** Why a part did not arrive. A part still 'sent', or without a row, never got a receipt. */
export type MissedKind = 'refused' | 'undeliverable' | 'expired' | 'no-receipt'

export interface PartsSummary {
  count: number
  delivered: number[]
  /** The parts that did not arrive, grouped by why, in the order of their first part. */
  missed: Array<{ kind: MissedKind; parts: number[] }>
}

const MISSED_OF: Record<string, MissedKind> = {
  refused: 'refused',
  undeliverable: 'undeliverable',
  expired: 'expired',
}

export function summariseParts(report: PartsReport): PartsSummary {
  const count = Math.max(report.count, ...report.states.keys())
  const delivered: number[] = []
  const missed = new Map<MissedKind, number[]>()
  for (let no = 1; no <= count; no++) {
    const state = report.states.get(no)
    if (state === 'delivered') {
      delivered.push(no)
      continue
    }
    const kind = (state !== undefined && MISSED_OF[state]) || 'no-receipt'
    missed.set(kind, [...(missed.get(kind) ?? []), no])
  }
  return { count, delivered, missed: [...missed].map(([kind, parts]) => ({ kind, parts })) }
}

/** Part numbers as a sentence lists them: "2", "1 et 3", "1, 2 et 4" (French) or "… and …". */
export function partNumberList(parts: readonly number[], lang: 'fr' | 'en'): string {
  const words = parts.map(String)
  if (words.length <= 1) return words.join('')
  const and = lang === 'fr' ? 'et' : 'and'
  return `${words.slice(0, -1).join(', ')} ${and} ${words[words.length - 1]}`
}

// French agrees with the number of parts: [one part, several].
const MISSED_WORDS: Record<MissedKind, { fr: [string, string]; en: string }> = {
  refused: {
    fr: ["refusée par l'opérateur", "refusées par l'opérateur"],
    en: 'refused by the carrier',
  },
  undeliverable: {
    fr: ["non distribuable d'après l'opérateur", "non distribuables d'après l'opérateur"],
    en: 'undeliverable, says the carrier',
  },
  expired: {
    fr: ['expirée avant remise', 'expirées avant remise'],
    en: 'expired before delivery',
  },
  'no-receipt': {
    fr: ["sans accusé de réception de l'opérateur", "sans accusé de réception de l'opérateur"],
    en: 'without a receipt from the carrier',
  },
}

/**
 * The notice's lines about the parts, e.g. "Parties remises : 1 et 3 sur 3." then "Partie 2
 * refusée par l'opérateur (ESME_RINVCMDLEN).". `refusal` is the carrier's word for a refused
 * part (the SMS keeps one: the last refusal's).
 */
export function partsLines(
  summary: PartsSummary,
  refusal: string | null,
  lang: 'fr' | 'en',
): string[] {
  const { delivered, count } = summary
  const list = partNumberList(delivered, lang)
  const one = delivered.length === 1
  const lines = [
    lang === 'fr'
      ? `${one ? 'Partie remise' : 'Parties remises'} : ${list || 'aucune'} sur ${count}.`
      : `${one ? 'Part delivered' : 'Parts delivered'}: ${list || 'none'} of ${count}.`,
  ]
  for (const { kind, parts } of summary.missed) {
    const single = parts.length === 1
    const words = lang === 'fr' ? MISSED_WORDS[kind].fr[single ? 0 : 1] : MISSED_WORDS[kind].en
    const why = kind === 'refused' && refusal ? ` (${refusal})` : ''
    const noun = lang === 'fr' ? (single ? 'Partie' : 'Parties') : single ? 'Part' : 'Parts'
    lines.push(`${noun} ${partNumberList(parts, lang)} ${words}${why}.`)
  }
  return lines
}

/** The same in DSN terms: "delivered parts 1,3 of 3; part 2 refused: ESME_RINVCMDLEN". */
export function partsDiagnostic(summary: PartsSummary, refusal: string | null): string {
  const items = [`delivered parts ${summary.delivered.join(',') || 'none'} of ${summary.count}`]
  for (const { kind, parts } of summary.missed) {
    const why = kind === 'refused' && refusal ? `: ${refusal}` : ''
    items.push(`part${parts.length === 1 ? '' : 's'} ${parts.join(',')} ${kind}${why}`)
  }
  return items.join('; ')
}
