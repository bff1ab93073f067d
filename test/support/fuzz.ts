import fc from 'fast-check'

/**
 * One place that decides how hard the property tests push. `npm run test:unit` runs each
 * property with its default number of cases (a few thousand in all, a few seconds);
 * `npm run test:fuzz` multiplies them with MAIL2SMS_FUZZ_SCALE. Seeds are random, so every run
 * explores new inputs; fast-check prints the seed and path of a failure, and
 * MAIL2SMS_FUZZ_SEED replays it.
 */

function positiveNumber(name: string): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw.trim() === '') return undefined
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`)
  return value
}

const scale = positiveNumber('MAIL2SMS_FUZZ_SCALE') ?? 1
const seed = process.env.MAIL2SMS_FUZZ_SEED?.trim()
  ? Math.trunc(Number(process.env.MAIL2SMS_FUZZ_SEED))
  : undefined

let casesRun = 0

/** Cases a property runs: its default, scaled. */
export function fuzzRuns(defaultRuns: number): number {
  return Math.max(1, Math.round(defaultRuns * scale))
}

/** Per-case deadline for properties that could hang, scaled with nothing: a hang is a hang. */
export const CASE_TIMEOUT_MS = 10_000

// Shrinking a long counterexample through a slow oracle once took ten minutes: past this
// budget (scaled with the runs) the property stops and reports what it has, as a failure.
const TIME_LIMIT_MS = 30_000 * scale

function parameters<T>(defaultRuns: number, extra: fc.Parameters<T>): fc.Parameters<T> {
  return {
    numRuns: fuzzRuns(defaultRuns),
    interruptAfterTimeLimit: TIME_LIMIT_MS,
    markInterruptAsFailure: true,
    ...(seed === undefined ? {} : { seed }),
    ...extra,
  }
}

function count<T>(details: fc.RunDetails<T>): void {
  casesRun += details.numRuns
}

// fast-check's report names the seed, path and counterexample; the assertion that failed is
// added so the mocha output says what went wrong, not only with what.
function failure<T>(report: string | undefined, details: fc.RunDetails<T>): Error {
  const cause = details.errorInstance
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new Error(`${report ?? 'property failed'}\n\nFailed with: ${reason}`, { cause })
}

/** fc.assert for a synchronous property, counted. */
export function checkProperty<T>(
  property: fc.IProperty<T>,
  defaultRuns: number,
  extra: fc.Parameters<T> = {},
): void {
  const details = fc.check(property, parameters(defaultRuns, extra))
  count(details)
  if (details.failed) throw failure(fc.defaultReportMessage(details), details)
}

/** fc.assert for an asynchronous property, counted. */
export async function checkAsyncProperty<T>(
  property: fc.IAsyncProperty<T>,
  defaultRuns: number,
  extra: fc.Parameters<T> = {},
): Promise<void> {
  const details = await fc.check(property, parameters(defaultRuns, extra))
  count(details)
  if (details.failed) throw failure(await fc.asyncDefaultReportMessage(details), details)
}

/** Cases run so far in this process. */
export function fuzzCasesRun(): number {
  return casesRun
}

// A root hook: imported by every fuzz file, registered once, run after the whole suite.
after(() => {
  if (casesRun > 0) console.log(`fuzz cases: ${casesRun} (scale ${scale})`)
})

/** A string as a JavaScript literal with everything outside printable ASCII escaped. */
export function show(text: string): string {
  return JSON.stringify(text).replace(
    /[^ -~]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}
