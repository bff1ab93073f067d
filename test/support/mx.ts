import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { ChildProcess } from 'node:child_process'
import type { DatabaseConfig } from '../../lib/config'
import { spawnHaraka } from '../../lib/process/haraka'
import { waitForPort } from './wait-for-port'

const ROOT = path.resolve(__dirname, '..', '..')
export const SMS_DOMAIN = 'sms.example.test'

export interface RunningMx {
  port: number
  dir: string
  logs(): string
  /** Resolves when the Haraka process ends, however it ends. */
  exited: Promise<void>
  /** SIGKILLs Haraka (if still running) and removes its folder. */
  stop(): Promise<void>
}

export interface MxOptions {
  database: DatabaseConfig
  dnsServer?: string
  cacheRefreshMs?: number
  /** 3000 when absent; null leaves the key out, so the MX runs with the shipped default. */
  spfTimeoutMs?: number | null
  /** Plugins list to use instead of config/plugins (the bench's bare Haraka). */
  plugins?: string[]
  /** More files for Haraka's config folder, by name (the bench's bare Haraka needs host_list). */
  extraConfigFiles?: Record<string, string>
  /** More [mx] keys for mail2sms.ini, e.g. { max_connections_per_ip: 3 }. */
  mxSettings?: Record<string, string | number>
  /** More environment for the Haraka process (queue/discard only discards when told to). */
  env?: NodeJS.ProcessEnv
  /** Keys of mail2sms.ini's [limits] section. */
  limits?: Record<string, string | number>
  /** Listen on this port instead of a free one: an MX restarted where its clients expect it. */
  port?: number
  /** Keys of mail2sms.ini's [log] section, e.g. { format: 'json' }. */
  log?: Record<string, string>
  /** The ops listener's port (/metrics, /healthz, /readyz); off when absent. */
  opsPort?: number
  /** smtp.ini `nodes`: Haraka's cluster workers (0, the shipped value, when absent). */
  nodes?: number
}

export async function freePort(): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as net.AddressInfo
  await new Promise((resolve) => srv.close(resolve))
  return port
}

function writeMail2SmsIni(file: string, opts: MxOptions): void {
  const db = opts.database
  const lines = [
    '[database]',
    `url=${db.url ?? ''}`,
    `sqlite_file=${db.sqliteFile}`,
    `pool_max=${db.poolMax}`,
    ...(db.queryTimeoutMs ? [`query_timeout_ms=${db.queryTimeoutMs}`] : []),
    '[mx]',
    `domains=${SMS_DOMAIN}`,
    `cache_refresh_ms=${opts.cacheRefreshMs ?? 0}`,
    ...(opts.spfTimeoutMs === null ? [] : [`spf_timeout_ms=${opts.spfTimeoutMs ?? 3000}`]),
    `dns_servers=${opts.dnsServer ?? ''}`,
    'dns_cache_ttl_ms=0',
    ...Object.entries(opts.mxSettings ?? {}).map(([key, value]) => `${key}=${value}`),
    '[limits]',
    ...Object.entries(opts.limits ?? {}).map(([key, value]) => `${key}=${value}`),
    '[log]',
    ...Object.entries(opts.log ?? {}).map(([key, value]) => `${key}=${value}`),
    // Off unless asked for: MX nodes of parallel tests must not compete for one port.
    '[ops]',
    `mx_listen=${opts.opsPort ? `127.0.0.1:${opts.opsPort}` : ''}`,
  ]
  fs.writeFileSync(file, lines.join('\n') + '\n')
}

/**
 * A real Haraka with the project's config and plugins, in its own folder and on a random port;
 * only the listen address and mail2sms.ini differ from what `npm start` runs.
 */
export async function startMx(opts: MxOptions): Promise<RunningMx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-mx-'))
  const configDir = path.join(dir, 'config')
  fs.cpSync(path.join(ROOT, 'config'), configDir, { recursive: true })
  fs.symlinkSync(path.join(ROOT, 'plugins'), path.join(dir, 'plugins'))
  const port = opts.port ?? (await freePort())
  const smtpIni = fs.readFileSync(path.join(configDir, 'smtp.ini'), 'utf8')
  fs.writeFileSync(
    path.join(configDir, 'smtp.ini'),
    smtpIni
      .replace(/^listen=.*$/m, `listen=127.0.0.1:${port}`)
      .replace(/^nodes=.*$/m, `nodes=${opts.nodes ?? 0}`),
  )
  if (opts.plugins)
    fs.writeFileSync(path.join(configDir, 'plugins'), opts.plugins.join('\n') + '\n')
  writeMail2SmsIni(path.join(configDir, 'mail2sms.ini'), opts)
  for (const [name, text] of Object.entries(opts.extraConfigFiles ?? {})) {
    fs.writeFileSync(path.join(configDir, name), text)
  }
  const child: ChildProcess = spawnHaraka({
    dir,
    typescript: true,
    stdio: 'pipe',
    env: { ...opts.env, MAIL2SMS_CONFIG: path.join(configDir, 'mail2sms.ini') },
  })
  let output = ''
  child.stdout?.on('data', (c) => (output += c))
  child.stderr?.on('data', (c) => (output += c))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    await waitForPort('127.0.0.1', port, 30_000, child)
    // The ops listener opens in init_master, which may end after SMTP is listening.
    if (opts.opsPort) await waitForPort('127.0.0.1', opts.opsPort, 30_000, child)
  } catch (err) {
    child.kill('SIGKILL')
    throw new Error(`Haraka did not start: ${(err as Error).message}\n${output.slice(-3000)}`, {
      cause: err,
    })
  }
  return {
    port,
    dir,
    logs: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL')
        await exited
      }
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
