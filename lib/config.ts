import fs from 'node:fs'
import path from 'node:path'
import ini from 'ini'

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
}

export interface MxConfig {
  domains: string[]
  maxRecipients: number
  cacheRefreshMs: number
  spfTimeoutMs: number
  dnsServers: string[]
  dnsCacheTtlMs: number
}

export interface Mail2SmsConfig {
  file: string
  database: DatabaseConfig
  mx: MxConfig
}

type Kind = 'string' | 'int' | 'list'
interface KeySpec {
  kind: Kind
  default: string | number | string[]
  min?: number
}

/** Every key the file may hold. Anything else stops the process, naming the key. */
const SCHEMA: Record<string, Record<string, KeySpec>> = {
  database: {
    url: { kind: 'string', default: '' },
    sqlite_file: { kind: 'string', default: 'data/mail2sms.sqlite' },
    pool_max: { kind: 'int', default: 10, min: 1 },
  },
  mx: {
    domains: { kind: 'list', default: ['sms.example.com'] },
    max_recipients: { kind: 'int', default: 50, min: 1 },
    cache_refresh_ms: { kind: 'int', default: 1000, min: 0 },
    spf_timeout_ms: { kind: 'int', default: 10000, min: 100 },
    dns_servers: { kind: 'list', default: [] },
    dns_cache_ttl_ms: { kind: 'int', default: 60000, min: 0 },
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
  if (env.MAIL2SMS_SMS_DOMAINS) {
    values.mx.domains = readValue(
      'MAIL2SMS_SMS_DOMAINS',
      'mx.domains',
      SCHEMA.mx.domains,
      env.MAIL2SMS_SMS_DOMAINS,
    )
  }
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
  const values = validate(file, ini.parse(text))
  applyEnv(values, env)
  const db = values.database
  const mx = values.mx
  const url = (db.url as string) || null
  if (url && !/^mysql2?:\/\//.test(url)) {
    throw new ConfigError(
      `${file}: database.url (or DATABASE_URL) must start with mysql://, got "${url}"`,
    )
  }
  const domains = (mx.domains as string[]).map((d) => d.toLowerCase())
  if (domains.length === 0)
    throw new ConfigError(`${file}: mx.domains must name at least one domain`)
  return {
    file,
    database: {
      url,
      sqliteFile: path.resolve(PROJECT_ROOT, db.sqlite_file as string),
      poolMax: db.pool_max as number,
    },
    mx: {
      domains,
      maxRecipients: mx.max_recipients as number,
      cacheRefreshMs: mx.cache_refresh_ms as number,
      spfTimeoutMs: mx.spf_timeout_ms as number,
      dnsServers: mx.dns_servers as string[],
      dnsCacheTtlMs: mx.dns_cache_ttl_ms as number,
    },
  }
}
