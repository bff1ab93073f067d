import fs from 'node:fs'
import path from 'node:path'
import net from 'node:net'
import ini from 'ini'
import { parseAllowlistEntry } from './net/allowlist'
import { parseDestinationList } from './limits/destinations'
import { DEFAULT_ALLOWLIST_LIMITS, type AllowlistLimits } from './net/allowlist-coverage'
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log/format'
import { parseContactPhone } from './phone'
import { normaliseEmail } from './db/senders'

/** Where the project lives: config paths and the SQLite file are resolved from here. */
export const PROJECT_ROOT = path.resolve(
  __dirname,
  '..',
  __dirname.includes(`${path.sep}dist${path.sep}`) ? '..' : '',
)

export interface DatabaseConfig {
  /** mysql://… selects MySQL/MariaDB; unset means the embedded SQLite file. */
  url: string | null
  sqliteFile: string
  poolMax: number
  /**
   * Longest a MySQL statement or a new connection may take before the connection is dropped
   * and the caller gets a temporary error. Unset: DEFAULT_QUERY_TIMEOUT_MS.
   */
  queryTimeoutMs?: number
}

/** Below Haraka's plugin timeout (30 s), so a stuck database never holds an SMTP client that long. */
export const DEFAULT_QUERY_TIMEOUT_MS = 5000

export interface MxConfig {
  domains: string[]
  maxRecipients: number
  cacheRefreshMs: number
  spfTimeoutMs: number
  dnsServers: string[]
  dnsCacheTtlMs: number
  /** Most open SMTP connections per client IP (IPv6: per /64) in one MX process; 0: no limit. */
  maxConnectionsPerIp: number
}

export interface WorkerConfig {
  transport: 'console' | 'smpp'
  batchSize: number
  pollMs: number
  leaseMs: number
  retryInitialMs: number
  retryMaxMs: number
  maxAgeMs: number
  shutdownGraceMs: number
  /** An SMS sent this long (ms) ago with no final receipt goes to the final status 'unknown'. */
  receiptTimeoutMs: number
}

export interface SmppConfig {
  host: string
  port: number
  systemId: string
  password: string
  systemType: string
  window: number
  requestTimeoutMs: number
  enquireLinkMs: number
  reconnectInitialMs: number
  reconnectMaxMs: number
  longSms: 'udh' | 'sar' | 'payload'
  throughputPerSecond: number
  receipts: 'per_part' | 'per_message' | 'auto'
  /** auto mode: how long (ms) a long SMS with a receipt for some parts waits for the others. */
  receiptPartWaitMs: number
  /** How the carrier writes ids in receipts compared with submit_sm_resp. */
  receiptIdFormat: 'auto' | 'same' | 'hex' | 'decimal'
  /** What data_coding 0 means to this SMSC, in both directions. */
  defaultAlphabet: 'gsm' | 'latin1' | 'ascii'
  /** Slow down on throttling answers and speed up again carefully. */
  adaptiveRate: boolean
  defaultSource: string
}

export interface AdminConfig {
  host: string
  port: number
  /** Public address of the admin: links in invitations, and the origin forms must come from. */
  baseUrl: string
  /** Empty: the admin makes one and keeps it in data/session.secret. */
  sessionSecret: string
  sessionTtlHours: number
  invitationTtlHours: number
  loginMaxFailures: number
  loginLockoutMinutes: number
  /**
   * While an address is locked, a login attempt without the admin's device cookie is held this
   * long before its password is checked; one at a time per address.
   */
  lockedLoginDelayMs: number
  /** Invitation mails (new or resent) per invited address, and per account, per window. */
  invitationMailsPerAddress: number
  invitationMailsPerAccount: number
  invitationMailWindowMinutes: number
  /** Reverse proxies (addresses or CIDR) whose X-Forwarded-For names the client. */
  trustedProxies?: string[]
  /** "Mot de passe oublié ?" links; DEFAULT_PASSWORD_RESET when absent. */
  passwordReset?: PasswordResetConfig
  /** The operator's contact on the help page; none given: the page says whom to ask. */
  help?: HelpContact
}

/** How long a reset link lasts, and how many reset mails may be asked for per window. */
export interface PasswordResetConfig {
  ttlMinutes: number
  /** Requests per address asked for (with a login or not), per window. */
  mailsPerAddress: number
  /** Requests from one client network (an IPv6 /64), whatever the address, per window. */
  requestsPerClient: number
  windowMinutes: number
}

export const DEFAULT_PASSWORD_RESET: PasswordResetConfig = {
  ttlMinutes: 60,
  mailsPerAddress: 3,
  requestsPerClient: 10,
  windowMinutes: 60,
}

/** Each part is optional; what is set was checked at start. */
export interface HelpContact {
  email: string | null
  /** E.164. */
  phone: string | null
  /** http:// or https:// */
  url: string | null
}

export interface MailerConfig {
  transport: 'file' | 'smtp'
  /** smtp://user:pass@relay:587 or smtps://…, for transport=smtp. */
  smtpUrl: string
  /** From of invitations and failure notices; forwards come from <number>+<ref>@<sms domain>. */
  from: string
  /** Where transport=file writes its .eml files. */
  directory: string
}

export interface InboundConfig {
  /** How long after a sender texted a number an SMS from it goes straight back to them. */
  directReplyWindowHours: number
}

/**
 * How long message text and addresses are kept once an SMS or inbound SMS reached a final
 * state, in days (0: for ever), and how the worker's purge paces itself.
 */
export interface RetentionConfig {
  textDays: number
  addressesDays: number
  purgeIntervalMinutes: number
  purgeBatchSize: number
  purgePauseMs: number
}

/** Spend limits: defaults for every account; the operator overrides them per account. 0 = none. */
export interface LimitsConfig {
  accountSmsPerMinute: number
  senderSmsPerMinute: number
  segmentsPerDay: number
  segmentsPerMonth: number
  /** Destinations every account may text besides its own country: ISO codes or +prefixes. */
  allowedDestinations: string[]
  /** The same sender, number and text more than this many times per window is refused. */
  loopMaxRepeats: number
  loopWindowMinutes: number
}

/** `[limits]` as shipped: also what an admin started without a configuration shows. */
export const DEFAULT_LIMITS: LimitsConfig = {
  accountSmsPerMinute: 300,
  senderSmsPerMinute: 60,
  segmentsPerDay: 0,
  segmentsPerMonth: 0,
  allowedDestinations: [],
  loopMaxRepeats: 5,
  loopWindowMinutes: 10,
}

/** How every process writes its log lines. */
export interface LogConfig {
  format: LogFormat
  /** Lines below this level are not written. */
  level: LogLevel
}

/** Where a service's ops listener (/metrics, /healthz, /readyz) listens. */
export interface OpsListen {
  host: string
  port: number
}

/** One ops listener per service; null: that service has none, and collects no metrics. */
export interface OpsConfig {
  mx: OpsListen | null
  worker: OpsListen | null
  admin: OpsListen | null
}

export interface Mail2SmsConfig {
  file: string
  log: LogConfig
  ops: OpsConfig
  limits: LimitsConfig
  admin: AdminConfig
  mailer: MailerConfig
  inbound: InboundConfig
  retention: RetentionConfig
  allowlist: AllowlistLimits
  database: DatabaseConfig
  mx: MxConfig
  worker: WorkerConfig
  smpp: SmppConfig
}

type Kind = 'string' | 'int' | 'list' | 'choice'
interface KeySpec {
  kind: Kind
  default: string | number | string[]
  min?: number
  max?: number
  choices?: string[]
}

/** Every key the file may hold. Anything else stops the process, naming the key. */
const SCHEMA: Record<string, Record<string, KeySpec>> = {
  database: {
    url: { kind: 'string', default: '' },
    sqlite_file: { kind: 'string', default: 'data/mail2sms.sqlite' },
    pool_max: { kind: 'int', default: 10, min: 1 },
    query_timeout_ms: { kind: 'int', default: DEFAULT_QUERY_TIMEOUT_MS, min: 100 },
  },
  mx: {
    domains: { kind: 'list', default: ['sms.example.com'] },
    max_recipients: { kind: 'int', default: 50, min: 1 },
    cache_refresh_ms: { kind: 'int', default: 1000, min: 0 },
    // RFC 7208 §4.6.4: a verifier should allow at least 20 seconds before giving up on SPF.
    spf_timeout_ms: { kind: 'int', default: 20000, min: 100 },
    dns_servers: { kind: 'list', default: [] },
    dns_cache_ttl_ms: { kind: 'int', default: 60000, min: 0 },
    max_connections_per_ip: { kind: 'int', default: 50, min: 0 },
  },
  worker: {
    transport: { kind: 'choice', default: 'console', choices: ['console', 'smpp'] },
    batch_size: { kind: 'int', default: 300, min: 1 },
    poll_ms: { kind: 'int', default: 50, min: 1 },
    lease_ms: { kind: 'int', default: 60000, min: 1000 },
    retry_initial_ms: { kind: 'int', default: 5000, min: 1 },
    retry_max_ms: { kind: 'int', default: 600000, min: 1 },
    max_age_ms: { kind: 'int', default: 172800000, min: 1000 },
    shutdown_grace_ms: { kind: 'int', default: 10000, min: 0 },
    receipt_timeout_ms: { kind: 'int', default: 259200000, min: 1000 },
  },
  smpp: {
    host: { kind: 'string', default: '127.0.0.1' },
    port: { kind: 'int', default: 2775, min: 1 },
    system_id: { kind: 'string', default: '' },
    password: { kind: 'string', default: '' },
    system_type: { kind: 'string', default: '' },
    window: { kind: 'int', default: 10, min: 1 },
    request_timeout_ms: { kind: 'int', default: 10000, min: 100 },
    enquire_link_ms: { kind: 'int', default: 30000, min: 1000 },
    reconnect_initial_ms: { kind: 'int', default: 1000, min: 10 },
    reconnect_max_ms: { kind: 'int', default: 60000, min: 10 },
    long_sms: { kind: 'choice', default: 'udh', choices: ['udh', 'sar', 'payload'] },
    throughput_per_second: { kind: 'int', default: 0, min: 0 },
    receipts: { kind: 'choice', default: 'auto', choices: ['per_part', 'per_message', 'auto'] },
    receipt_part_wait_ms: { kind: 'int', default: 600000, min: 0 },
    receipt_id_format: {
      kind: 'choice',
      default: 'auto',
      choices: ['auto', 'same', 'hex', 'decimal'],
    },
    default_alphabet: { kind: 'choice', default: 'gsm', choices: ['gsm', 'latin1', 'ascii'] },
    adaptive_rate: { kind: 'choice', default: 'on', choices: ['on', 'off'] },
    default_source: { kind: 'string', default: '' },
  },
  admin: {
    host: { kind: 'string', default: '127.0.0.1' },
    port: { kind: 'int', default: 8080, min: 0 },
    base_url: { kind: 'string', default: '' },
    session_secret: { kind: 'string', default: '' },
    session_ttl_hours: { kind: 'int', default: 12, min: 1 },
    invitation_ttl_hours: { kind: 'int', default: 72, min: 1 },
    login_max_failures: { kind: 'int', default: 5, min: 1 },
    login_lockout_minutes: { kind: 'int', default: 15, min: 1 },
    locked_login_delay_ms: { kind: 'int', default: 3000, min: 0, max: 60000 },
    invitation_mails_per_address: { kind: 'int', default: 3, min: 1 },
    invitation_mails_per_account: { kind: 'int', default: 50, min: 1 },
    invitation_mail_window_minutes: { kind: 'int', default: 60, min: 1 },
    trusted_proxies: { kind: 'list', default: [] },
    password_reset_ttl_minutes: {
      kind: 'int',
      default: DEFAULT_PASSWORD_RESET.ttlMinutes,
      min: 5,
      max: 1440,
    },
    password_reset_mails_per_address: {
      kind: 'int',
      default: DEFAULT_PASSWORD_RESET.mailsPerAddress,
      min: 1,
    },
    password_reset_requests_per_client: {
      kind: 'int',
      default: DEFAULT_PASSWORD_RESET.requestsPerClient,
      min: 1,
    },
    password_reset_window_minutes: {
      kind: 'int',
      default: DEFAULT_PASSWORD_RESET.windowMinutes,
      min: 1,
    },
    help_email: { kind: 'string', default: '' },
    help_phone: { kind: 'string', default: '' },
    help_url: { kind: 'string', default: '' },
  },
  mailer: {
    transport: { kind: 'choice', default: 'file', choices: ['file', 'smtp'] },
    smtp_url: { kind: 'string', default: '' },
    from: { kind: 'string', default: '' },
    directory: { kind: 'string', default: 'data/mail' },
  },
  inbound: {
    direct_reply_window_hours: { kind: 'int', default: 72, min: 1 },
  },
  retention: {
    text_days: { kind: 'int', default: 0, min: 0 },
    addresses_days: { kind: 'int', default: 0, min: 0 },
    purge_interval_minutes: { kind: 'int', default: 60, min: 1 },
    purge_batch_size: { kind: 'int', default: 100, min: 1, max: 10000 },
    purge_pause_ms: { kind: 'int', default: 100, min: 0 },
  },
  limits: {
    account_sms_per_minute: { kind: 'int', default: DEFAULT_LIMITS.accountSmsPerMinute, min: 0 },
    sender_sms_per_minute: { kind: 'int', default: DEFAULT_LIMITS.senderSmsPerMinute, min: 0 },
    segments_per_day: { kind: 'int', default: DEFAULT_LIMITS.segmentsPerDay, min: 0 },
    segments_per_month: { kind: 'int', default: DEFAULT_LIMITS.segmentsPerMonth, min: 0 },
    allowed_destinations: { kind: 'list', default: DEFAULT_LIMITS.allowedDestinations },
    loop_max_repeats: { kind: 'int', default: DEFAULT_LIMITS.loopMaxRepeats, min: 0 },
    loop_window_minutes: { kind: 'int', default: DEFAULT_LIMITS.loopWindowMinutes, min: 1 },
  },
  log: {
    format: { kind: 'choice', default: 'logfmt', choices: [...LOG_FORMATS] },
    level: { kind: 'choice', default: 'info', choices: [...LOG_LEVELS] },
  },
  ops: {
    mx_listen: { kind: 'string', default: '127.0.0.1:9471' },
    worker_listen: { kind: 'string', default: '127.0.0.1:9472' },
    admin_listen: { kind: 'string', default: '127.0.0.1:9473' },
  },
  allowlist: {
    max_ipv4_prefix: {
      kind: 'int',
      default: DEFAULT_ALLOWLIST_LIMITS.maxIpv4Prefix,
      min: 1,
      max: 32,
    },
    max_ipv6_prefix: {
      kind: 'int',
      default: DEFAULT_ALLOWLIST_LIMITS.maxIpv6Prefix,
      min: 1,
      max: 128,
    },
  },
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function defaultConfigPath(): string {
  return process.env.MAIL2SMS_CONFIG ?? path.join(PROJECT_ROOT, 'config', 'mail2sms.ini')
}

function readValue(
  file: string,
  key: string,
  spec: KeySpec,
  raw: unknown,
): string | number | string[] {
  if (raw === undefined || raw === '') return spec.default
  const text = String(raw).trim()
  if (spec.kind === 'string') return text
  if (spec.kind === 'choice') {
    if (!spec.choices?.includes(text)) {
      throw new ConfigError(
        `${file}: ${key} must be one of ${spec.choices?.join(', ')}, got "${text}"`,
      )
    }
    return text
  }
  if (spec.kind === 'list') {
    return text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  }
  if (!/^\d+$/.test(text))
    throw new ConfigError(`${file}: ${key} must be a whole number, got "${text}"`)
  const n = Number(text)
  if (spec.min !== undefined && n < spec.min) {
    throw new ConfigError(`${file}: ${key} must be at least ${spec.min}, got ${n}`)
  }
  if (spec.max !== undefined && n > spec.max) {
    throw new ConfigError(`${file}: ${key} must be at most ${spec.max}, got ${n}`)
  }
  return n
}

function validate(
  file: string,
  parsed: Record<string, unknown>,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {}
  for (const [section, value] of Object.entries(parsed)) {
    if (!SCHEMA[section] || typeof value !== 'object' || value === null) {
      throw new ConfigError(`${file}: unknown section or key "${section}"`)
    }
    for (const key of Object.keys(value)) {
      if (!SCHEMA[section][key]) throw new ConfigError(`${file}: unknown key "${section}.${key}"`)
    }
  }
  for (const [section, keys] of Object.entries(SCHEMA)) {
    out[section] = {}
    const given = (parsed[section] ?? {}) as Record<string, unknown>
    for (const [key, spec] of Object.entries(keys)) {
      out[section][key] = readValue(file, `${section}.${key}`, spec, given[key])
    }
  }
  return out
}

/** Environment variables win over the file, so secrets and URLs stay out of it. */
function applyEnv(values: Record<string, Record<string, unknown>>, env: NodeJS.ProcessEnv): void {
  if (env.DATABASE_URL !== undefined) values.database.url = env.DATABASE_URL.trim()
  if (env.SMPP_SYSTEM_ID !== undefined) values.smpp.system_id = env.SMPP_SYSTEM_ID
  if (env.SMPP_PASSWORD !== undefined) values.smpp.password = env.SMPP_PASSWORD
  if (env.MAIL2SMS_SESSION_SECRET !== undefined)
    values.admin.session_secret = env.MAIL2SMS_SESSION_SECRET
  if (env.MAIL2SMS_SMTP_URL !== undefined) values.mailer.smtp_url = env.MAIL2SMS_SMTP_URL.trim()
  if (env.MAIL2SMS_SMS_DOMAINS) {
    values.mx.domains = readValue(
      'MAIL2SMS_SMS_DOMAINS',
      'mx.domains',
      SCHEMA.mx.domains,
      env.MAIL2SMS_SMS_DOMAINS,
    )
  }
}

/** Node's resolver takes addresses only: 192.0.2.1, 192.0.2.1:53, 2001:db8::1, [2001:db8::1]:53. */
function isDnsServer(value: string): boolean {
  if (net.isIP(value)) return true
  const v6 = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value)
  if (v6) return net.isIPv6(v6[1]) && Number(v6[2]) <= 65535
  const v4 = /^([^:]+):(\d{1,5})$/.exec(value)
  return Boolean(v4 && net.isIPv4(v4[1]) && Number(v4[2]) <= 65535)
}

/**
 * A direct reply quotes the SMS it answers and goes to its sender: both must outlive the
 * reply window, or replies would silently go to the forward list instead.
 */
function readRetention(
  file: string,
  values: Record<string, Record<string, unknown>>,
): RetentionConfig {
  const r = values.retention
  const windowHours = values.inbound.direct_reply_window_hours as number
  for (const key of ['text_days', 'addresses_days']) {
    const days = r[key] as number
    if (days > 0 && days * 24 < windowHours) {
      throw new ConfigError(
        `${file}: retention.${key} is ${days} day(s), shorter than inbound.direct_reply_window_hours (${windowHours} h): a direct reply needs the SMS it answers; keep at least ${Math.ceil(windowHours / 24)} days, or 0 for ever`,
      )
    }
  }
  return {
    textDays: r.text_days as number,
    addressesDays: r.addresses_days as number,
    purgeIntervalMinutes: r.purge_interval_minutes as number,
    purgeBatchSize: r.purge_batch_size as number,
    purgePauseMs: r.purge_pause_ms as number,
  }
}

/**
 * `host:port` or `[IPv6]:port`; '' (the key present and empty) turns the listener off. The
 * host must be an IP address: an ops listener is meant for loopback or a private network.
 */
function readOpsListen(file: string, key: string, given: unknown): OpsListen | null {
  const text = String(given ?? '').trim()
  if (text === '') return null
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text)
  const port = m ? Number(m[2]) : NaN
  if (!m || !net.isIP(m[1]) || port > 65535) {
    throw new ConfigError(
      `${file}: ${key} must be IP:port or [IPv6]:port (e.g. 127.0.0.1:9471), or empty for none; got "${text}"`,
    )
  }
  return { host: m[1], port }
}

/** `[admin] help_*`: each empty or valid, or the process stops naming the key. */
function readHelpContact(file: string, admin: Record<string, unknown>): HelpContact {
  const email = admin.help_email as string
  const phone = admin.help_phone as string
  const url = admin.help_url as string
  const contact: HelpContact = { email: null, phone: null, url: null }
  if (email) {
    try {
      contact.email = normaliseEmail(email)
    } catch {
      throw new ConfigError(`${file}: admin.help_email must be an email address, got "${email}"`)
    }
  }
  if (phone) {
    const parsed = parseContactPhone(phone)
    if (!parsed.ok) {
      throw new ConfigError(
        `${file}: admin.help_phone must be a phone number in international form (e.g. +33 1 23 45 67 89): ${parsed.message}`,
      )
    }
    contact.phone = parsed.e164
  }
  if (url) {
    let parsed: URL | null = null
    try {
      parsed = new URL(url)
    } catch {
      // Reported below with the other refusals.
    }
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      throw new ConfigError(
        `${file}: admin.help_url must be an http:// or https:// address, got "${url}"`,
      )
    }
    contact.url = parsed.href
  }
  return contact
}

function readOps(file: string, values: Record<string, unknown>, parsed: unknown): OpsConfig {
  const given = (parsed ?? {}) as Record<string, unknown>
  // readValue turns an empty value into the default: here empty means off, so read the file's.
  const listen = (key: string) =>
    readOpsListen(file, `ops.${key}`, key in given ? given[key] : values[key])
  return { mx: listen('mx_listen'), worker: listen('worker_listen'), admin: listen('admin_listen') }
}

export function loadConfig(
  file = defaultConfigPath(),
  env: NodeJS.ProcessEnv = process.env,
): Mail2SmsConfig {
  let text = ''
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    if (env.MAIL2SMS_CONFIG) throw new ConfigError(`${file}: file not found (MAIL2SMS_CONFIG)`)
  }
  const parsed = ini.parse(text)
  const values = validate(file, parsed)
  applyEnv(values, env)
  const db = values.database
  const mx = values.mx
  const url = (db.url as string) || null
  if (url && !/^mysql2?:\/\//.test(url)) {
    throw new ConfigError(
      `${file}: database.url (or DATABASE_URL) must start with mysql://, got "${url}"`,
    )
  }
  const given = (parsed.mx ?? {}) as Record<string, unknown>
  if ('domains' in given && String(given.domains ?? '').trim() === '') {
    throw new ConfigError(`${file}: mx.domains is empty; name at least one SMS domain`)
  }
  for (const server of mx.dns_servers as string[]) {
    if (!isDnsServer(server)) {
      throw new ConfigError(
        `${file}: mx.dns_servers entry "${server}" must be an IP address, IP:port or [IPv6]:port`,
      )
    }
  }
  const domains = (mx.domains as string[]).map((d) => d.toLowerCase())
  if (domains.length === 0)
    throw new ConfigError(`${file}: mx.domains must name at least one domain`)
  const w = values.worker
  const sm = values.smpp
  if (w.transport === 'smpp' && !sm.system_id) {
    throw new ConfigError(
      `${file}: worker.transport is smpp but smpp.system_id is empty (or set SMPP_SYSTEM_ID)`,
    )
  }
  const ad = values.admin
  const ml = values.mailer
  if (ml.transport === 'smtp' && !/^smtps?:\/\//.test(ml.smtp_url as string)) {
    throw new ConfigError(
      `${file}: mailer.transport is smtp but mailer.smtp_url (or MAIL2SMS_SMTP_URL) is not an smtp:// or smtps:// URL`,
    )
  }
  const baseUrl = ((ad.base_url as string) || `http://${ad.host}:${ad.port}`).replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) {
    throw new ConfigError(
      `${file}: admin.base_url must be an http:// or https:// URL, got "${baseUrl}"`,
    )
  }
  const secret = ad.session_secret as string
  if (secret && secret.length < 32) {
    throw new ConfigError(
      `${file}: admin.session_secret (or MAIL2SMS_SESSION_SECRET) must be at least 32 characters`,
    )
  }
  for (const proxy of ad.trusted_proxies as string[]) {
    const parsed = parseAllowlistEntry(proxy)
    if (!parsed.ok) {
      throw new ConfigError(`${file}: admin.trusted_proxies entry "${proxy}": ${parsed.message}`)
    }
  }
  const help = readHelpContact(file, ad)
  const retention = readRetention(file, values)
  const li = values.limits
  const destinations = parseDestinationList((li.allowed_destinations as string[]).join(','))
  if (!destinations.ok)
    throw new ConfigError(`${file}: limits.allowed_destinations: ${destinations.message}`)
  const ops = readOps(file, values.ops, parsed.ops)
  return {
    file,
    log: {
      format: values.log.format as LogFormat,
      level: values.log.level as LogLevel,
    },
    ops,
    limits: {
      accountSmsPerMinute: li.account_sms_per_minute as number,
      senderSmsPerMinute: li.sender_sms_per_minute as number,
      segmentsPerDay: li.segments_per_day as number,
      segmentsPerMonth: li.segments_per_month as number,
      allowedDestinations: destinations.entries,
      loopMaxRepeats: li.loop_max_repeats as number,
      loopWindowMinutes: li.loop_window_minutes as number,
    },
    admin: {
      host: ad.host as string,
      port: ad.port as number,
      baseUrl,
      sessionSecret: secret,
      sessionTtlHours: ad.session_ttl_hours as number,
      invitationTtlHours: ad.invitation_ttl_hours as number,
      loginMaxFailures: ad.login_max_failures as number,
      loginLockoutMinutes: ad.login_lockout_minutes as number,
      lockedLoginDelayMs: ad.locked_login_delay_ms as number,
      invitationMailsPerAddress: ad.invitation_mails_per_address as number,
      invitationMailsPerAccount: ad.invitation_mails_per_account as number,
      invitationMailWindowMinutes: ad.invitation_mail_window_minutes as number,
      trustedProxies: ad.trusted_proxies as string[],
      passwordReset: {
        ttlMinutes: ad.password_reset_ttl_minutes as number,
        mailsPerAddress: ad.password_reset_mails_per_address as number,
        requestsPerClient: ad.password_reset_requests_per_client as number,
        windowMinutes: ad.password_reset_window_minutes as number,
      },
      help,
    },
    mailer: {
      transport: ml.transport as MailerConfig['transport'],
      smtpUrl: ml.smtp_url as string,
      from: (ml.from as string) || `Mail2SMS <mail2sms@${domains[0]}>`,
      directory: path.resolve(PROJECT_ROOT, ml.directory as string),
    },
    inbound: {
      directReplyWindowHours: values.inbound.direct_reply_window_hours as number,
    },
    retention,
    allowlist: {
      maxIpv4Prefix: values.allowlist.max_ipv4_prefix as number,
      maxIpv6Prefix: values.allowlist.max_ipv6_prefix as number,
    },
    worker: {
      transport: w.transport as WorkerConfig['transport'],
      batchSize: w.batch_size as number,
      pollMs: w.poll_ms as number,
      leaseMs: w.lease_ms as number,
      retryInitialMs: w.retry_initial_ms as number,
      retryMaxMs: w.retry_max_ms as number,
      maxAgeMs: w.max_age_ms as number,
      shutdownGraceMs: w.shutdown_grace_ms as number,
      receiptTimeoutMs: w.receipt_timeout_ms as number,
    },
    smpp: {
      host: sm.host as string,
      port: sm.port as number,
      systemId: sm.system_id as string,
      password: sm.password as string,
      systemType: sm.system_type as string,
      window: sm.window as number,
      requestTimeoutMs: sm.request_timeout_ms as number,
      enquireLinkMs: sm.enquire_link_ms as number,
      reconnectInitialMs: sm.reconnect_initial_ms as number,
      reconnectMaxMs: sm.reconnect_max_ms as number,
      longSms: sm.long_sms as SmppConfig['longSms'],
      throughputPerSecond: sm.throughput_per_second as number,
      receipts: sm.receipts as SmppConfig['receipts'],
      receiptPartWaitMs: sm.receipt_part_wait_ms as number,
      receiptIdFormat: sm.receipt_id_format as SmppConfig['receiptIdFormat'],
      defaultAlphabet: sm.default_alphabet as SmppConfig['defaultAlphabet'],
      adaptiveRate: sm.adaptive_rate === 'on',
      defaultSource: sm.default_source as string,
    },
    database: {
      url,
      sqliteFile: path.resolve(PROJECT_ROOT, db.sqlite_file as string),
      poolMax: db.pool_max as number,
      queryTimeoutMs: db.query_timeout_ms as number,
    },
    mx: {
      domains,
      maxRecipients: mx.max_recipients as number,
      cacheRefreshMs: mx.cache_refresh_ms as number,
      spfTimeoutMs: mx.spf_timeout_ms as number,
      dnsServers: mx.dns_servers as string[],
      dnsCacheTtlMs: mx.dns_cache_ttl_ms as number,
      maxConnectionsPerIp: mx.max_connections_per_ip as number,
    },
  }
}
