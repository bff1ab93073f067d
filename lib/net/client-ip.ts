import net from 'node:net'
import { IpAllowlist } from './allowlist'

/** Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR ranges). */
export class TrustedProxies {
  private readonly list: IpAllowlist

  constructor(entries: string[]) {
    this.list = new IpAllowlist(entries.map((cidr) => ({ accountId: 0, cidr })))
  }

  get size(): number {
    return this.list.size
  }

  has(ip: string): boolean {
    return this.list.accountsFor(ip).size > 0
  }
}

/**
 * The address of the client behind any trusted proxies. X-Forwarded-For is read only when the
 * connection itself comes from a trusted proxy, and from the right: each trusted hop appends
 * what it saw, so the first address from the right that is not a trusted proxy is the client
 * (anything further left was written by the client and proves nothing).
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trusted: TrustedProxies,
): string {
  if (!peer) return 'unknown'
  if (trusted.size === 0 || !forwardedFor || !trusted.has(peer)) return peer
  const hops = forwardedFor
    .split(',')
    .map((hop) => hop.trim())
    .reverse()
  let client = peer
  for (const hop of hops) {
    if (net.isIP(hop) === 0) break
    client = hop
    if (!trusted.has(hop)) break
  }
  return client
}
