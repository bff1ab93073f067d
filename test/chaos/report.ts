import type { SentEmail } from './load'
import type { Reconciliation } from './reconcile'
import type { ChaosSettings } from './settings'
import type { UnplannedExit } from './supervised'

const seconds = (ms: number | null) => (ms === null ? '-' : (ms / 1000).toFixed(1))

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n')
}

/** The run in a few lines: counts first, then one line per fault. */
export function formatReport(
  s: ChaosSettings,
  r: Reconciliation,
  loadStart: number,
  exits: UnplannedExit[],
  after: { probes: SentEmail[]; silentWorkers: string[] },
): string {
  const probes = after.probes.map((p) => {
    const last = p.attempts[p.attempts.length - 1]
    return `mx${last.mx + 1}:${last.reply?.code ?? last.error}`
  })
  const counts = table([
    ['emails sent', String(r.emails)],
    ['250', String(r.accepted)],
    ['4xx/lost link, then 250', `${r.acceptedAfterRetry} (${r.alreadyQueued} "already queued")`],
    ['5xx', String(r.refused.length)],
    ['never settled', String(r.unsettled.length)],
    ['lost', String(r.lost.length)],
    ['stuck', String(r.stuck.length)],
    [
      'duplicates',
      `${r.duplicates.length} SMS, ${r.extraSubmits} extra submits ` +
        `(allowed ${r.duplicateAllowance}; ${r.duplicatesBeforeFaults} before any fault)`,
    ],
    ['wrong text', String(r.wrongText)],
    [
      'SMS rows',
      `${r.rows}: submitted once ${r.submittedOnce}, more than once ${r.submittedMore}, ` +
        `never ${r.rows - r.submittedOnce - r.submittedMore}`,
    ],
    [
      'final states',
      Object.entries(r.finalStates)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([status, n]) => `${status} ${n}`)
        .join(', '),
    ],
    ['rows without 250', String(r.rowsWithout250)],
    ['probe per MX after', probes.join(' ')],
    ['silent workers after', after.silentWorkers.join(' ') || 'none'],
    [
      'unplanned exits',
      exits.map((e) => `${e.service}@${seconds(e.at - loadStart)}s`).join(' ') || '0',
    ],
  ])
  const faults = table([
    [
      'fault',
      'target',
      'at s',
      'restored s',
      'next 250 s',
      'next submit s',
      '4xx/lost',
      'dups',
      'allowed',
      'detail',
    ],
    ...r.faults.map((f) => [
      f.fault.kind,
      f.fault.target,
      seconds(f.fault.at - loadStart),
      seconds(f.fault.restoredAt === null ? null : f.fault.restoredAt - f.fault.at),
      seconds(f.next250Ms),
      seconds(f.nextSubmitMs),
      String(f.softRefusals),
      String(f.duplicates),
      String(f.allowance),
      f.fault.error ? `FAILED: ${f.fault.error}` : f.fault.detail,
    ]),
  ])
  const header =
    `chaos ${s.scale}: seed ${s.seed} (CHAOS_SEED=${s.seed} replays it), ` +
    `faults ${s.faults.join(',') || 'none'}, ${s.emailsPerSecond} emails/s for ${s.loadMs / 1000} s`
  return `${header}\n${counts}\n\n${faults}\n(times in seconds: "at" from the start of the load, the rest from the fault)`
}
