import type { Context } from 'hono'
import type { HttpBindings } from '@hono/node-server'
import type { AdminDeps, AdminEnv } from './env'
import { TrustedProxies, clientAddress } from '../lib/net/client-ip'

// The proxies of admin.trusted_proxies, parsed once per configuration.
const trustedByConfig = new WeakMap<object, TrustedProxies>()

function trustedProxies(config: AdminDeps['config']): TrustedProxies {
  let trusted = trustedByConfig.get(config)
  if (!trusted) {
    trusted = new TrustedProxies(config.trustedProxies ?? [])
    trustedByConfig.set(config, trusted)
  }
  return trusted
}

/**
<<<<<<< HEAD
 * The client's address (for the login throttle, the audit log): the connection's, or behind a
 * reverse proxy listed in admin.trusted_proxies the one it forwarded. Without that setting
 * every client behind a proxy would share its address, and a few wrong passwords would lock
 * everyone out. 'unknown' when the request came with no connection (tests' app.request()).
=======
 * The client's address for the login throttle and the reset-mail quota: the connection's, or
 * behind a reverse proxy listed in admin.trusted_proxies the one it forwarded. Without that
 * setting every client behind a proxy would share its address, and a few wrong passwords
 * would lock everyone out.
>>>>>>> h-account
 */
export function clientIp(c: Context<AdminEnv>): string {
  const bindings = c.env as Partial<HttpBindings> | undefined
  const peer = bindings?.incoming?.socket?.remoteAddress
  return clientAddress(peer, c.req.header('x-forwarded-for'), trustedProxies(c.get('deps').config))
}
