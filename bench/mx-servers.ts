import fs from 'node:fs'
import path from 'node:path'
import type { DatabaseConfig } from '../lib/config'
import { freePort, startMx, SMS_DOMAIN, type RunningMx } from '../test/support/mx'
import { benchMetricsOn, scrapeEverySecond } from './metrics-switch'
import { findHarakaPid } from './proc'
import { summariseProfile, type ProfileSummary } from './cpu-profile'

/**
 * The Harakas a bench run compares. All use the project's config/ (smtp.ini, connection.ini,
 * log.ini, nodes) and differ only in their plugins list; `bare` and `full` are always run, the
 * two in between only with --stages, to split the full pipeline's cost by SMTP phase.
 */
export type ServerName = 'bare' | 'envelope' | 'parse' | 'unlimited' | 'full'

interface ServerSpec {
  label: string
  /** Instead of config/plugins; unset runs the production list. */
  plugins?: string[]
  /**
   * The line a server logs for a message it took: its own count of accepted mail. With a
   * capture group (the trace), lines are counted once per distinct value.
   */
  acceptedLine: RegExp
}

// Haraka's own notice, in its json, for every message a queue plugin took, whichever plugin
// that was: the servers without our log.sms_format plugin.
const QUEUED = /"origin":"core","message":"queue","code":"OK"/g
// Our MX writes Haraka's accepted steps at debug; each SMS it committed has an sms.queued
// line naming the message's trace.
const SMS_QUEUED = / event=sms\.queued trace=(\S+)/g
const OUR_ENVELOPE_PLUGINS = [
  'connect.sms_concurrency',
  'connect.sms_allowlist',
  'mail_from.sms_sender',
  'rcpt_to.sms_number',
]

export const SERVERS: Record<ServerName, ServerSpec> = {
  bare: {
    label: 'bare Haraka: rcpt_to.in_host_list, queue/discard',
    plugins: ['rcpt_to.in_host_list', 'queue/discard'],
    acceptedLine: QUEUED,
  },
  envelope: {
    label: 'our connect, MAIL and RCPT plugins, then queue/discard',
    plugins: [...OUR_ENVELOPE_PLUGINS, 'queue/discard'],
    acceptedLine: QUEUED,
  },
  parse: {
    label: 'as above plus data.sms_text (MIME and text), then queue/discard',
    plugins: [...OUR_ENVELOPE_PLUGINS, 'data.sms_text', 'queue/discard'],
    acceptedLine: QUEUED,
  },
  unlimited: {
    label: 'full Mail2SMS MX with every spend limit off (no counters read or written)',
    acceptedLine: SMS_QUEUED,
  },
  full: {
    label: 'full Mail2SMS MX: config/plugins, spend limits on, commit to MariaDB',
    acceptedLine: SMS_QUEUED,
  },
}

/**
 * Every spend limit on, so that the full MX pays for the check (one read per message, one
 * counter update per group commit), but each far above what one run sends: smtp-source mails
 * the same text to the same number from the same sender, which the loop guard would otherwise
 * stop after a few messages.
 */
const UNLIMITED = {
  account_sms_per_minute: 0,
  sender_sms_per_minute: 0,
  segments_per_day: 0,
  segments_per_month: 0,
  loop_max_repeats: 0,
}

const BENCH_LIMITS = {
  account_sms_per_minute: 1_000_000_000,
  sender_sms_per_minute: 1_000_000_000,
  segments_per_day: 1_000_000_000,
  segments_per_month: 1_000_000_000,
  loop_max_repeats: 1_000_000_000,
}

export interface Server {
  name: ServerName
  mx: RunningMx
  pid: number | null
  /** Where the log stood at the end of the previous run, so each run reads only its own part. */
  logOffset: number
  profileDir: string | null
}

export async function startServer(
  name: ServerName,
  database: DatabaseConfig,
  profileDir: string | null,
): Promise<Server> {
  const spec = SERVERS[name]
  const env: NodeJS.ProcessEnv = {
    // Haraka runs in a temporary folder, where its `-r ts-node/register/transpile-only` is not
    // found unless the project's node_modules is on NODE_PATH.
    NODE_PATH: path.join(__dirname, '..', 'node_modules'),
  }
  // queue/discard only pretends to deliver when told to.
  if (spec.plugins?.includes('queue/discard')) env.YES_REALLY_DO_DISCARD = '1'
  if (profileDir) {
    // Node refuses --cpu-prof in NODE_OPTIONS, so a preload starts V8's profiler on a signal.
    env.NODE_OPTIONS = `--require ${path.join(__dirname, 'profile-preload.js')}`
    env.MAIL2SMS_BENCH_PROFILE_DIR = profileDir
  }
  // The ops listener is one of our plugins: the bare server has none.
  const opsPort = benchMetricsOn() && !spec.plugins ? await freePort() : undefined
  const mx = await startMx({
    opsPort,
    database,
    // The production default: the directory is checked once a second, not for every message.
    cacheRefreshMs: 1000,
    plugins: spec.plugins,
    // Every session comes from loopback: --sessions above the production per-IP limit must
    // measure throughput, not 421s.
    mxSettings: { max_connections_per_ip: 0 },
    limits: name === 'unlimited' ? UNLIMITED : BENCH_LIMITS,
    extraConfigFiles: name === 'bare' ? { host_list: `${SMS_DOMAIN}\n` } : undefined,
    env,
  })
  if (opsPort) {
    const stopScraping = scrapeEverySecond(opsPort)
    const stop = mx.stop
    mx.stop = () => {
      stopScraping()
      return stop()
    }
  }
  return { name, mx, pid: findHarakaPid(mx.dir), logOffset: 0, profileDir }
}

/** The log written since the last call: what the server said about one run. */
export function takeLog(server: Server): string {
  const log = server.mx.logs()
  const part = log.slice(server.logOffset)
  server.logOffset = log.length
  return part
}

export function acceptedInLog(server: Server, log: string): number {
  const matches = [...log.matchAll(SERVERS[server.name].acceptedLine)]
  return matches.some((m) => m[1] !== undefined)
    ? new Set(matches.map((m) => m[1])).size
    : matches.length
}

/** Starts, or stops and writes, the CPU profile of each server (see profile-preload.js). */
export function toggleProfilers(servers: Server[]): void {
  for (const s of servers) if (s.pid !== null && s.profileDir) process.kill(s.pid, 'SIGUSR2')
}

export async function collectProfile(server: Server): Promise<ProfileSummary | null> {
  const dir = server.profileDir
  if (!dir) return null
  const until = Date.now() + 15_000
  for (;;) {
    const file = fs.existsSync(dir)
      ? fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
      : undefined
    if (file) return summariseProfile(path.join(dir, file))
    if (Date.now() > until) return null
    await new Promise((r) => setTimeout(r, 100))
  }
}
