import type { Connection, Next, Plugin } from 'haraka'
import type { Decision } from '../../lib/mx/decision'
import { ConnectionsPerClient } from '../../lib/mx/connection-limit'
import { reply, runtime } from '../_shared/haraka'

/** Per process: with Haraka's `nodes` above 0, each cluster worker counts on its own. */
let counter: ConnectionsPerClient | null = null
let limit = 0

function connections(): ConnectionsPerClient {
  if (!counter) {
    limit = runtime().config.mx.maxConnectionsPerIp
    counter = new ConnectionsPerClient(limit)
  }
  return counter
}

export function register(this: Plugin): void {
  this.register_hook('connect_init', 'count_connection')
  // The first hook whose answer Haraka acts on: a refused client costs no reverse DNS lookup.
  this.register_hook('lookup_rdns', 'refuse_over_limit')
  this.register_hook('disconnect', 'uncount_connection')
}

interface Counted {
  key: string
  count: number
  refusal: Decision | null
}

export function count_connection(this: Plugin, next: Next, connection: Connection): void {
  try {
    const { key, count, decision } = connections().opened(connection.remote.ip)
    const counted: Counted = {
      key,
      count,
      refusal: decision && decision.action !== 'accept' ? decision : null,
    }
    connection.notes.sms_connection_count = counted
  } catch (err) {
    // Fail open: a limit we cannot apply must not refuse every client.
    connection.logerror(this, `ip=${connection.remote.ip} not counted: ${(err as Error).message}`)
  }
  next()
}

export function refuse_over_limit(this: Plugin, next: Next, connection: Connection): void {
  const counted = connection.notes.sms_connection_count as Counted | undefined
  if (!counted?.refusal) return next()
  connection.lognotice(
    this,
    `ip=${connection.remote.ip} client=${counted.key} open_connections=${counted.count} limit=${limit} decision=defer status=4.7.0`,
  )
  reply(next, counted.refusal, { disconnect: true })
}

export function uncount_connection(this: Plugin, next: Next, connection: Connection): void {
  const counted = connection.notes.sms_connection_count as Counted | undefined
  if (counted) {
    connections().closed(counted.key)
    delete connection.notes.sms_connection_count
  }
  next()
}
