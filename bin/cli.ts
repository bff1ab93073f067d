import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { Writable } from 'node:stream'
import { loadConfig, ConfigError, type LimitsConfig, type Mail2SmsConfig } from '../lib/config'
import { openDb, describeDb, type Db } from '../lib/db/connection'
import { migrateLatestWaiting, migrationStatus, unlockMigrations } from '../lib/db/migrate'
import {
  createAccount,
  findAccountByRef,
  listAccounts,
  updateAccountLimits,
  ValidationError,
  type Account,
  type LimitSetting,
} from '../lib/db/accounts'
import { setGsmOnly, setTimeZone, setVirtualNumber } from '../lib/db/account-settings'
import { effectiveDestinations } from '../lib/limits/destinations'
import { addSender, listSenders, removeSender } from '../lib/db/senders'
import { addAllowedIp, listAllowedIps, removeAllowedIp } from '../lib/db/allowlist'
import { listSms, type SmsStatus } from '../lib/db/outbound'
import { EXIT_CONFIG, runSupervisor } from '../lib/process/supervisor'
import { watchParent } from '../lib/process/parent-watch'
import { runWorker } from '../worker/main'
import { runAdmin } from '../admin/main'
import { collectStatus } from '../lib/ops/status'
import { createAdmin, findAdminByEmail, grantAccount, listAdmins } from '../lib/db/admins'
import { checkPasswordPolicy, generatePassword, hashPassword } from '../lib/auth/password'
import { exportRange, writeSmsCsv } from '../lib/export/sms-csv'
import { TimeZoneError, canonicalTimeZone } from '../lib/time/zone'
import { purgeReportLines, runPurge } from '../lib/retention/purge'
import { createLogger, errorText, lineSink } from '../lib/log'

/** A mistake in how the command was called: printed with the usage, exit code 2. */
class UsageError extends Error {
  override name = 'UsageError'
}

export interface CliIo {
  out(line: string): void
  err(line: string): void
  /** Where bulk output (an export) is streamed. Default: process.stdout. */
  stdout?: Writable
}

const consoleIo: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) }

const USAGE = `Usage: mail2sms <command> [options]

  start                                the MX, the SMS worker and the admin, and migrations
  mx [--no-migrate]                    the MX alone, and migrations
  worker [--no-migrate]                the SMS worker alone, after migrations
  admin [--no-migrate]                 the web admin alone, after migrations
                                       (all wait for a database that is down; with
                                       --no-migrate, for another process to migrate it)
  migrate [--status] [--unlock]        apply database migrations (or list pending ones, or
                                       clear the lock of a migration that was killed)
  status                               what is up and down (MX, worker and SMSC link, admin,
                                       database, migrations), the queue, the last errors;
                                       exit code 1 when something is down

  account create <ref> --name <name> [--country FR] [--sender-name NAME]
                 [--signature "first line"] [--cap 4] [--virtual-number +33700000001]
                 [--gsm-only] [--tz Europe/Paris]
  account list
  account set <ref> [--gsm-only on|off] [--virtual-number +33700000001|none]
                 [--tz Europe/Paris]
                 (--gsm-only on: letters GSM 03.38 lacks are replaced by the closest ones,
                 ê by e, so the SMS stays GSM-7; --virtual-number: the number inbound SMS
                 arrive on, also the sender without a sender name; none takes it away;
                 --tz: the IANA zone of the account's days and dates, UTC by default;
                 without options: show)
  account limits <ref> [--sms-per-minute N] [--sender-sms-per-minute N]
                 [--segments-per-day N] [--segments-per-month N] [--destinations "BE,+881"]
                 (N = 0 for no limit, or "default" to follow [limits]; without options: show)

  sender add <account-ref> <email> [--pending] [--default]
  sender remove <account-ref> <email>
  sender list <account-ref>

  ip add <account-ref> <address or CIDR> [--note text]
  ip remove <account-ref> <address or CIDR>
  ip list [account-ref]

  sms list [--account ref] [--status S] [--limit 20]
                 (S: queued, sending, sent, delivered, partial, undeliverable, expired,
                 failed, or unknown: accepted by the carrier, no final receipt)
  sms export --account ref [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--tz Europe/Paris] [--bom]
                 (CSV on standard output, oldest first: days created, both included, in
                 --tz, the account's zone by default; --bom for spreadsheets that need it
                 to read UTF-8)

  purge [--dry-run]                    remove text and addresses past [retention] now (or
                                       count what would go); the worker does it every
                                       [retention] purge_interval_minutes

  admin-user create --email <email> --name <name> [--operator]
                 (password from MAIL2SMS_ADMIN_PASSWORD, else generated and printed once)
  admin-user grant --email <email> --account <account-ref>
  admin-user list

Settings come from config/mail2sms.ini (MAIL2SMS_CONFIG to use another file);
DATABASE_URL=mysql://... selects MySQL/MariaDB instead of the SQLite file.`

type Options = NonNullable<ParseArgsConfig['options']>

interface ParsedCommand {
  [option: string]: string | boolean | undefined | string[]
  _: string[]
}

function parse(args: string[], options: Options, positionals: string[]): ParsedCommand {
  let parsed
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (parsed.positionals.length !== positionals.length) {
    const want = positionals.map((p) => `<${p}>`).join(' ')
    throw new UsageError(
      `expected ${want || 'no arguments'}, got ${parsed.positionals.length ? parsed.positionals.join(' ') : 'none'}`,
    )
  }
  return {
    ...(parsed.values as Record<string, string | boolean | undefined>),
    _: parsed.positionals,
  }
}

async function requireAccount(db: Db, ref: string): Promise<Account> {
  const account = await findAccountByRef(db, ref)
  if (!account)
    throw new ValidationError(`no account with reference "${ref}" (see: mail2sms account list)`)
  return account
}

function intOption(value: ParsedCommand[string], name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^\d+$/.test(value))
    throw new UsageError(`--${name} must be a whole number`)
  return Number(value)
}

const STATUSES: SmsStatus[] = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'partial',
  'undeliverable',
  'expired',
  'failed',
  'unknown',
]

async function accountCommand(
  db: Db,
  sub: string,
  args: string[],
  io: CliIo,
  limits: LimitsConfig,
): Promise<void> {
  if (sub === 'create') {
    const o = parse(
      args,
      {
        name: { type: 'string' },
        country: { type: 'string' },
        'sender-name': { type: 'string' },
        signature: { type: 'string' },
        cap: { type: 'string' },
        'virtual-number': { type: 'string' },
        'gsm-only': { type: 'boolean' },
        tz: { type: 'string' },
      },
      ['ref'],
    )
    if (typeof o.name !== 'string')
      throw new UsageError('account create needs --name "<account name>"')
    const a = await createAccount(db, {
      ref: o._[0],
      name: o.name,
      defaultCountry: o.country as string | undefined,
      senderName: o['sender-name'] as string | undefined,
      signatureMarker: o.signature as string | undefined,
      segmentCap: intOption(o.cap, 'cap'),
      virtualNumber: o['virtual-number'] as string | undefined,
      gsmOnly: Boolean(o['gsm-only']),
      timeZone: o.tz as string | undefined,
    })
    io.out(
      `created account ${a.ref} (id ${a.id}) country=${a.defaultCountry} cap=${a.segmentCap} gsm_only=${onOff(a.gsmOnly)} tz=${a.timeZone}`,
    )
    return
  }
  if (sub === 'list') {
    parse(args, {}, [])
    for (const a of await listAccounts(db)) {
      io.out(
        `${a.ref}\t${a.name}\tcountry=${a.defaultCountry}\tsender_name=${a.senderName ?? '-'}\tcap=${a.segmentCap}\tgsm_only=${onOff(a.gsmOnly)}\ttz=${a.timeZone}`,
      )
    }
    return
  }
  if (sub === 'limits') {
    const names = [
      'sms-per-minute',
      'sender-sms-per-minute',
      'segments-per-day',
      'segments-per-month',
      'destinations',
    ]
    const o = parse(args, Object.fromEntries(names.map((n) => [n, { type: 'string' }])), ['ref'])
    const account = await requireAccount(db, o._[0])
    const setting = (name: string): LimitSetting | undefined =>
      o[name] === 'default' ? 'default' : intOption(o[name], name)
    await updateAccountLimits(db, account.id, {
      smsPerMinute: setting('sms-per-minute'),
      senderSmsPerMinute: setting('sender-sms-per-minute'),
      segmentsPerDay: setting('segments-per-day'),
      segmentsPerMonth: setting('segments-per-month'),
      allowedDestinations: o.destinations as string | undefined,
    })
    const updated = await requireAccount(db, account.ref)
    for (const line of describeLimits(updated, limits)) io.out(line)
    return
  }
  if (sub === 'set') {
    const o = parse(
      args,
      {
        'gsm-only': { type: 'string' },
        'virtual-number': { type: 'string' },
        tz: { type: 'string' },
      },
      ['ref'],
    )
    const account = await requireAccount(db, o._[0])
    const gsmOnly = onOffOption(o['gsm-only'], 'gsm-only')
    const number = virtualNumberOption(o['virtual-number'])
    if (typeof o.tz === 'string' && canonicalTimeZone(o.tz) === null)
      throw new UsageError(
        `--tz: unknown time zone "${o.tz}" (an IANA name such as Europe/Paris, or UTC)`,
      )
    // The number first: it is the one that may be refused, and then nothing has changed.
    if (number !== undefined) await setVirtualNumber(db, account.id, number)
    if (gsmOnly !== undefined) await setGsmOnly(db, account.id, gsmOnly)
    if (typeof o.tz === 'string') await setTimeZone(db, account.id, o.tz)
    const updated = await requireAccount(db, account.ref)
    io.out(`account ${updated.ref}`)
    io.out(`gsm_only\t${onOff(updated.gsmOnly)}`)
    io.out(`virtual_number\t${updated.virtualNumber ?? 'none'}`)
    io.out(`tz\t${updated.timeZone}`)
    return
  }
  throw new UsageError(`unknown command "account ${sub ?? ''}"`)
}

function onOff(value: boolean): 'on' | 'off' {
  return value ? 'on' : 'off'
}

/** `none` (or an empty value) takes the number away; anything else is checked by the setter. */
function virtualNumberOption(value: ParsedCommand[string]): string | null | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new UsageError('--virtual-number needs a number or none')
  return value.trim() === '' || value.trim().toLowerCase() === 'none' ? null : value
}

function onOffOption(value: ParsedCommand[string], name: string): boolean | undefined {
  if (value === undefined) return undefined
  if (value === 'on') return true
  if (value === 'off') return false
  throw new UsageError(`--${name} must be on or off`)
}

/** One line per limit: the value in force, and whether it is the account's own or the default. */
function describeLimits(account: Account, defaults: LimitsConfig): string[] {
  const o = account.limits
  const show = (own: number | null, fallback: number, unit: string) => {
    const value = own ?? fallback
    return `${value === 0 ? 'no limit' : `${value} ${unit}`} (${own === null ? 'default' : 'account'})`
  }
  const destinations = effectiveDestinations(
    account.defaultCountry,
    o.allowedDestinations ?? defaults.allowedDestinations,
  )
  return [
    `account ${account.ref}`,
    `sms_per_minute\t${show(o.smsPerMinute, defaults.accountSmsPerMinute, 'SMS')}`,
    `sender_sms_per_minute\t${show(o.senderSmsPerMinute, defaults.senderSmsPerMinute, 'SMS')}`,
    `segments_per_day\t${show(o.segmentsPerDay, defaults.segmentsPerDay, 'segments')}`,
    `segments_per_month\t${show(o.segmentsPerMonth, defaults.segmentsPerMonth, 'segments')}`,
    `destinations\t${destinations.join(',')} (${o.allowedDestinations === null ? 'default' : 'account'})`,
  ]
}

async function senderCommand(db: Db, sub: string, args: string[], io: CliIo): Promise<void> {
  if (sub === 'add') {
    const o = parse(args, { pending: { type: 'boolean' }, default: { type: 'boolean' } }, [
      'account-ref',
      'email',
    ])
    const account = await requireAccount(db, o._[0])
    const s = await addSender(db, account.id, o._[1], {
      status: o.pending ? 'pending' : 'accepted',
      isDefault: Boolean(o.default),
    })
    io.out(
      `${s.email} is now ${s.status === 'accepted' ? 'an accepted' : 'a pending'} sender of ${account.ref}${s.isDefault ? ' (default account)' : ''}`,
    )
    return
  }
  if (sub === 'remove') {
    const o = parse(args, {}, ['account-ref', 'email'])
    const account = await requireAccount(db, o._[0])
    if (!(await removeSender(db, account.id, o._[1]))) {
      throw new ValidationError(`${o._[1]} is not a sender of ${account.ref}`)
    }
    io.out(`removed ${o._[1]} from ${account.ref}`)
    return
  }
  if (sub === 'list') {
    const o = parse(args, {}, ['account-ref'])
    const account = await requireAccount(db, o._[0])
    for (const s of await listSenders(db, account.id)) {
      io.out(`${s.email}\t${s.status}${s.isDefault ? '\tdefault' : ''}`)
    }
    return
  }
  throw new UsageError(`unknown command "sender ${sub ?? ''}"`)
}

async function ipCommand(
  db: Db,
  config: Mail2SmsConfig,
  sub: string,
  args: string[],
  io: CliIo,
): Promise<void> {
  if (sub === 'add') {
    const o = parse(args, { note: { type: 'string' } }, ['account-ref', 'address'])
    const account = await requireAccount(db, o._[0])
    const note = (o.note as string | undefined) ?? null
    const e = await addAllowedIp(db, account.id, o._[1], note, Date.now(), config.allowlist)
    io.out(`${account.ref} now accepts mail from ${e.cidr}`)
    return
  }
  if (sub === 'remove') {
    const o = parse(args, {}, ['account-ref', 'address'])
    const account = await requireAccount(db, o._[0])
    if (!(await removeAllowedIp(db, account.id, o._[1]))) {
      throw new ValidationError(`${o._[1]} is not on the IP list of ${account.ref}`)
    }
    io.out(`removed ${o._[1]} from ${account.ref}`)
    return
  }
  if (sub === 'list') {
    const o = parse(args, {}, args.length ? ['account-ref'] : [])
    const account = o._[0] ? await requireAccount(db, o._[0]) : null
    const refs = new Map((await listAccounts(db)).map((a) => [a.id, a.ref]))
    for (const e of await listAllowedIps(db, account?.id)) {
      io.out(`${refs.get(e.accountId)}\t${e.cidr}${e.note ? `\t${e.note}` : ''}`)
    }
    return
  }
  throw new UsageError(`unknown command "ip ${sub ?? ''}"`)
}

async function smsCommand(db: Db, sub: string, args: string[], io: CliIo): Promise<void> {
  if (sub === 'export') return smsExportCommand(db, args, io)
  if (sub !== 'list') throw new UsageError(`unknown command "sms ${sub ?? ''}"`)
  const o = parse(
    args,
    { account: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } },
    [],
  )
  const account = typeof o.account === 'string' ? await requireAccount(db, o.account) : null
  const status = o.status as SmsStatus | undefined
  if (status && !STATUSES.includes(status))
    throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`)
  const rows = await listSms(db, {
    accountId: account?.id,
    status,
    limit: intOption(o.limit, 'limit') ?? 20,
  })
  for (const r of rows) {
    const when = new Date(r.createdAt).toISOString()
    io.out(
      `${r.id}\t${when}\t${r.status}\t${r.recipient}\t${r.senderEmail}\t${r.encoding}/${r.segments}\t${JSON.stringify(r.body)}`,
    )
  }
}

/** CSV of one account's SMS on standard output, streamed (see lib/export/sms-csv.ts). */
async function smsExportCommand(db: Db, args: string[], io: CliIo): Promise<void> {
  const o = parse(
    args,
    {
      account: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      tz: { type: 'string' },
      bom: { type: 'boolean' },
    },
    [],
  )
  if (typeof o.account !== 'string') throw new UsageError('sms export needs --account <ref>')
  const account = await requireAccount(db, o.account)
  let range
  try {
    // Without --tz, the account's own days: those its admin's chart shows.
    const zone = (o.tz as string | undefined) ?? account.timeZone
    range = exportRange(o.from as string | undefined, o.to as string | undefined, zone)
  } catch (err) {
    if (err instanceof RangeError || err instanceof TimeZoneError) throw new UsageError(err.message)
    throw err
  }
  const out = io.stdout ?? process.stdout
  const count = await writeSmsCsv(db, out, {
    range: { accountId: account.id, from: range.from, to: range.to },
    clock: range.clock,
    bom: Boolean(o.bom),
  })
  io.err(`exported ${count} SMS of ${account.ref}`)
}

/** One purge now, with the settings of [retention] (see lib/retention/purge.ts). */
async function purgeCommand(
  db: Db,
  config: Mail2SmsConfig,
  args: string[],
  io: CliIo,
): Promise<void> {
  const o = parse(args, { 'dry-run': { type: 'boolean' } }, [])
  const r = config.retention
  const report = await runPurge(db, r, {
    batchSize: r.purgeBatchSize,
    pauseMs: r.purgePauseMs,
    now: Date.now(),
    dryRun: Boolean(o['dry-run']),
  })
  for (const line of purgeReportLines(r, report, Boolean(o['dry-run']))) io.out(line)
}

/** A login for the web admin; its password never appears on the command line (ps, history). */
async function adminUserCommand(
  db: Db,
  sub: string,
  args: string[],
  io: CliIo,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  if (sub === 'create') {
    const o = parse(
      args,
      { email: { type: 'string' }, name: { type: 'string' }, operator: { type: 'boolean' } },
      [],
    )
    if (typeof o.email !== 'string') throw new UsageError('admin-user create needs --email <email>')
    if (typeof o.name !== 'string') throw new UsageError('admin-user create needs --name "<name>"')
    const given = env.MAIL2SMS_ADMIN_PASSWORD
    const password = given || generatePassword()
    const problem = checkPasswordPolicy(password)
    if (problem) {
      throw new ValidationError(
        `MAIL2SMS_ADMIN_PASSWORD is ${problem === 'too_short' ? 'shorter than 10' : 'longer than 200'} characters`,
      )
    }
    const admin = await createAdmin(db, {
      email: o.email,
      name: o.name,
      passwordHash: await hashPassword(password),
      isOperator: Boolean(o.operator),
    })
    io.out(
      `created admin login ${admin.email} (id ${admin.id})${admin.isOperator ? ' operator' : ''}`,
    )
    if (!given) io.out(`password: ${password}  (shown once; change it in "Mes détails")`)
    return
  }
  if (sub === 'grant') {
    const o = parse(args, { email: { type: 'string' }, account: { type: 'string' } }, [])
    if (typeof o.email !== 'string' || typeof o.account !== 'string') {
      throw new UsageError('admin-user grant needs --email <email> --account <account-ref>')
    }
    const admin = await findAdminByEmail(db, o.email)
    if (!admin)
      throw new ValidationError(`no admin login ${o.email} (see: mail2sms admin-user list)`)
    const account = await requireAccount(db, o.account)
    const granted = await grantAccount(db, admin.id, account.id)
    io.out(`${admin.email} ${granted ? 'now administers' : 'already administered'} ${account.ref}`)
    return
  }
  if (sub === 'list') {
    parse(args, {}, [])
    for (const a of await listAdmins(db)) {
      io.out(
        `${a.email}\t${a.name || '-'}\t${a.isOperator ? 'operator' : 'admin'}\taccounts=${a.accountRefs.join(',') || '-'}`,
      )
    }
    return
  }
  throw new UsageError(`unknown command "admin-user ${sub ?? ''}"`)
}

async function migrateCommand(
  db: Db,
  config: Mail2SmsConfig,
  args: string[],
  io: CliIo,
): Promise<void> {
  const o = parse(args, { status: { type: 'boolean' }, unlock: { type: 'boolean' } }, [])
  if (o.status) {
    const s = await migrationStatus(db)
    io.out(
      `database ${describeDb(config.database)}: ${s.done.length} applied, ${s.pending.length} pending`,
    )
    for (const p of s.pending) io.out(`pending\t${p}`)
    return
  }
  if (o.unlock) {
    await unlockMigrations(db)
    io.out('migration lock cleared')
    return
  }
  const applied = await migrateLatestWaiting(db)
  io.out(
    `database ${describeDb(config.database)}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`,
  )
}

async function withDb<T>(config: Mail2SmsConfig, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = openDb(config.database)
  try {
    return await fn(db)
  } finally {
    await db.destroy()
  }
}

/**
 * A service as this process (worker, admin): it stops with the supervisor that started it,
 * and a failure to run is one log line in the configured format, like everything it writes.
 */
async function runService(
  config: Mail2SmsConfig,
  service: 'worker' | 'admin',
  run: () => Promise<number>,
): Promise<number> {
  const logger = createLogger({ service, ...config.log })
  // Under `mail2sms start`: stop with the supervisor, however it dies.
  watchParent({ signal: 'SIGTERM', log: lineSink(logger, 'warn') })
  try {
    return await run()
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) throw err
    logger.error(`${service}.failed`, { error: errorText(err) })
    return 1
  }
}

/** Runs one command; returns the process exit code (0 ok, 1 refused or failed, 2 bad usage). */
export async function run(
  argv: string[],
  io: CliIo = consoleIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [command, sub, ...rest] = argv
  try {
    if (!command || command === 'help' || command === '--help' || command === '-h') {
      io.out(USAGE)
      return command ? 0 : 2
    }
    const config = loadConfig()
    switch (command) {
      case 'start':
        // The services start even with the database down; migrations follow once it answers.
        return await runSupervisor(config, { migrate: true })
      case 'mx': {
        // --no-migrate: a database login without DDL grants (the MX answers 451 until another
        // process, e.g. `mail2sms migrate` run with the migration login, has applied them).
        const o = parse(sub ? [sub, ...rest] : [], { 'no-migrate': { type: 'boolean' } }, [])
        return await runSupervisor(config, { only: 'mx', migrate: !o['no-migrate'] })
      }
      case 'worker': {
        const o = parse(sub ? [sub, ...rest] : [], { 'no-migrate': { type: 'boolean' } }, [])
        return await runService(config, 'worker', () =>
          runWorker(config, { migrate: !o['no-migrate'] }),
        )
      }
      case 'admin': {
        const o = parse(sub ? [sub, ...rest] : [], { 'no-migrate': { type: 'boolean' } }, [])
        return await runService(config, 'admin', () =>
          runAdmin(config, { migrate: !o['no-migrate'] }),
        )
      }
      case 'admin-user':
        await withDb(config, (db) => adminUserCommand(db, sub, rest, io, env))
        return 0
      case 'status': {
        parse(sub ? [sub, ...rest] : [], {}, [])
        const report = await collectStatus(config)
        for (const line of report.lines) io.out(line)
        return report.down ? 1 : 0
      }
      case 'migrate':
        await withDb(config, (db) => migrateCommand(db, config, sub ? [sub, ...rest] : [], io))
        return 0
      case 'account':
        await withDb(config, (db) => accountCommand(db, sub, rest, io, config.limits))
        return 0
      case 'sender':
        await withDb(config, (db) => senderCommand(db, sub, rest, io))
        return 0
      case 'ip':
        await withDb(config, (db) => ipCommand(db, config, sub, rest, io))
        return 0
      case 'sms':
        await withDb(config, (db) => smsCommand(db, sub, rest, io))
        return 0
      case 'purge':
        await withDb(config, (db) => purgeCommand(db, config, sub ? [sub, ...rest] : [], io))
        return 0
      default:
        throw new UsageError(`unknown command "${command}"`)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`mail2sms: ${err.message}\n\n${USAGE}`)
      return 2
    }
    if (err instanceof ConfigError) {
      io.err(`mail2sms: ${err.message}`)
      // The supervisor does not restart a service that stops on its settings.
      return EXIT_CONFIG
    }
    if (err instanceof ValidationError) {
      io.err(`mail2sms: ${err.message}`)
      return 1
    }
    io.err(`mail2sms: ${(err as Error).message ?? err}`)
    return 1
  }
}

export function main(argv: string[]): void {
  run(argv).then(
    (code) => {
      process.exitCode = code
    },
    (err) => {
      console.error(err)
      process.exitCode = 1
    },
  )
}
