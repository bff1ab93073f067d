import type { Connection, Next, Plugin } from 'haraka'
import { closeMxRuntime } from '../../lib/mx/runtime'
import { EXIT_CONFIG } from '../../lib/process/supervisor'
import { runtime } from '../_shared/haraka'

export function register(this: Plugin): void {
  this.register_hook('init_master', 'open_runtime')
  this.register_hook('init_child', 'open_runtime')
  this.register_hook('connect_init', 'disable_nagle')
  this.register_hook('connect', 'note_allowlisted_accounts')
}

/**
 * Opens the database pool and loads the directory before the first client arrives. A database
 * that is down, or not migrated yet, does not stop the MX: mail gets 451 until it is usable.
 */
export function open_runtime(this: Plugin, next: Next): void {
  let rt
  try {
    rt = runtime((line) => this.lognotice(line))
  } catch (err) {
    // Invalid settings stop the MX at start, naming the key, instead of failing every message.
    this.logerror(`cannot start: ${(err as Error).message}`)
    console.error(`mail2sms: ${(err as Error).message}`)
    process.exit(EXIT_CONFIG)
  }
  const directory = rt.directory
  rt.health
    .start()
    .then((usable) => {
      // The health gate logged why not; the first MAIL FROM after it opens loads the directory.
      if (!usable) return
      return directory.get().then((d) => {
        this.loginfo(`directory loaded version=${d.version} allowlist_entries=${d.allowlist.size}`)
        // Rows the database holds but no address can match: say so rather than drop them silently.
        for (const bad of d.allowlist.invalid) {
          this.logerror(
            `account ${bad.accountId}: IP list entry "${bad.cidr}" is unreadable and ignored`,
          )
        }
      })
    })
    .catch((err) =>
      this.logerror(`directory not loaded yet (will retry per connection): ${err.message}`),
    )
    .finally(() => next())
}

/**
 * Pipelining clients stall ~40 ms per reply on delayed ACKs unless Nagle is off. Haraka's socket
 * wrapper ignores setNoDelay, so it is set on the TCP socket underneath, which STARTTLS keeps.
 */
export function disable_nagle(this: Plugin, next: Next, connection: Connection): void {
  const socket = connection.client?.targetsocket
  if (socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true)
  else connection.logwarn(this, 'cannot turn Nagle off: no TCP socket on this connection')
  next()
}

/**
 * No reject here: a client may still be authorised by SPF at MAIL FROM. Reads the snapshot in
 * hand so the greeting never waits on the database; MAIL FROM decides on a fresh one.
 */
export function note_allowlisted_accounts(this: Plugin, next: Next, connection: Connection): void {
  try {
    const directory = runtime().directory.peek()
    const accounts = directory?.allowlist.accountsFor(connection.remote.ip)
    if (accounts) connection.notes.sms_allowlisted_accounts = accounts
    connection.loginfo(
      this,
      `ip=${connection.remote.ip} allowlisted_accounts=${accounts ? [...accounts].join(',') || 'none' : 'unknown'}`,
    )
  } catch (err) {
    connection.logerror(
      this,
      `ip=${connection.remote.ip} allowlist unavailable: ${(err as Error).message}`,
    )
  }
  next()
}

export function shutdown(this: Plugin): void {
  void closeMxRuntime()
}
