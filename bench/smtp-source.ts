import fs from 'node:fs'
import path from 'node:path'
import { spawn, spawnSync } from 'node:child_process'

/**
 * Postfix's smtp-source, unpacked from Debian's postfix package into bench/.tools/ rather than
 * installed: installing postfix would also start a mail daemon on this machine.
 */
const TOOLS_DIR = path.join(__dirname, '.tools')
const ROOT_DIR = path.join(TOOLS_DIR, 'root')
const BINARY = path.join(ROOT_DIR, 'usr', 'sbin', 'smtp-source')
// Postfix's own shared libraries live outside the linker's search path.
const LIB_DIR = path.join(ROOT_DIR, 'usr', 'lib', 'postfix')

function run(command: string, args: string[], cwd: string): { ok: boolean; output: string } {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 })
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`
  return { ok: r.status === 0, output }
}

function findDeb(): string | undefined {
  return fs.readdirSync(TOOLS_DIR).find((f) => /^postfix_.*\.deb$/.test(f))
}

function downloadPostfix(): string {
  fs.mkdirSync(TOOLS_DIR, { recursive: true })
  const existing = findDeb()
  if (existing) return existing
  console.log('smtp-source not found: fetching it with apt-get download postfix')
  let r = run('apt-get', ['download', 'postfix'], TOOLS_DIR)
  // A fresh container often has empty package lists; one update is enough to find postfix.
  if (
    !r.ok &&
    /Unable to locate package|no installation candidate|select candidate/i.test(r.output)
  ) {
    console.log('postfix is not in the package lists: running apt-get update once and retrying')
    const update = run('apt-get', ['update'], TOOLS_DIR)
    if (!update.ok) throw new Error(`apt-get update failed:\n${update.output}`)
    r = run('apt-get', ['download', 'postfix'], TOOLS_DIR)
  }
  const deb = findDeb()
  if (!r.ok || !deb) throw new Error(`apt-get download postfix failed:\n${r.output}`)
  return deb
}

/** Usage text on stderr proves the binary and its libraries load; anything else is a failure. */
function checkRuns(): void {
  const r = spawnSync(BINARY, [], { encoding: 'utf8', env: smtpSourceEnv(), timeout: 10_000 })
  if (!/usage:/.test(r.stderr ?? '')) {
    throw new Error(`${BINARY} does not run here:\n${r.stderr ?? ''}${r.error ?? ''}`)
  }
}

function smtpSourceEnv(): NodeJS.ProcessEnv {
  const inherited = process.env.LD_LIBRARY_PATH
  return { ...process.env, LD_LIBRARY_PATH: inherited ? `${LIB_DIR}:${inherited}` : LIB_DIR }
}

/** Returns the path of a working smtp-source, unpacking postfix first when needed. */
export function ensureSmtpSource(): string {
  if (!fs.existsSync(BINARY)) {
    const deb = downloadPostfix()
    const x = run('dpkg', ['-x', deb, ROOT_DIR], TOOLS_DIR)
    if (!x.ok || !fs.existsSync(BINARY)) throw new Error(`dpkg -x ${deb} failed:\n${x.output}`)
  }
  checkRuns()
  return BINARY
}

export interface LoadOptions {
  host: string
  port: number
  messages: number
  sessions: number
  /** Body size: smtp-source sends 80-byte lines (a digit, X's, CRLF), the last one shorter. */
  bodyBytes: number
  from: string
  to: string
  heloName: string
  timeoutMs: number
}

export interface LoadResult {
  seconds: number
  sent: number
  /** Replies other than 2xx, by the step smtp-source names ("end of data", "recipient"...). */
  refused: Array<{ step: string; code: number; text: string }>
  /** Set when smtp-source stopped early (timeout, lost connection): its count is not reliable. */
  aborted: string | null
}

/**
 * Every message gets its own Message-Id (smtp-source builds it from its pid, the socket and a
 * countdown), so the MX's retry detection sees each as new and commits a row for each. `-N` and
 * `-r`, its other ways to vary messages, put a number in front of the recipient's local part,
 * and 0612345678 would become 10612345678, which is no mobile number.
 */
export function smtpSourceArgs(o: LoadOptions): string[] {
  return [
    // Go on after a refusal and report it as a warning, so that one 451 is counted, not fatal.
    '-A',
    '-4',
    // Reuse each session for many messages, as a busy MTA does; Haraka's per-connection work
    // (reverse DNS, banner) would otherwise weigh the same on both servers and hide ours.
    '-d',
    ...['-s', String(o.sessions), '-m', String(o.messages), '-l', String(o.bodyBytes)],
    // -M names the client in HELO and in the Message-Id; without it, the machine's hostname.
    ...['-f', o.from, '-t', o.to, '-M', o.heloName],
    `${o.host}:${o.port}`,
  ]
}

/** Runs one load; resolves when smtp-source exits or after timeoutMs (then it is killed). */
export function runSmtpSource(binary: string, o: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint()
    const child = spawn(binary, smtpSourceArgs(o), {
      env: smtpSourceEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (c) => (stderr += c))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, o.timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const refused = [...stderr.matchAll(/warning: (.+?) rejected: (\d{3}) (.*)$/gm)].map((m) => ({
        step: m[1],
        code: Number(m[2]),
        text: m[3],
      }))
      let aborted: string | null = null
      if (timedOut) aborted = `killed after ${o.timeoutMs} ms`
      else if (code !== 0) {
        const fatal = /fatal: (.*)$/m.exec(stderr)?.[1]
        aborted = `exit ${code ?? signal}${fatal ? `: ${fatal}` : ''}`
      }
      resolve({ seconds, sent: o.messages, refused, aborted })
    })
  })
}
