import type { Decision } from './decision'
import { answer } from './replies'
import { formatIp, parseClientIp } from '../net/allowlist'

const V6_HOST_BITS = (1n << 64n) - 1n

/**
 * Whom a connection is counted against: the IPv4 address, or the IPv6 /64. One host is
 * usually given a whole /64 (RFC 6177), so counting IPv6 addresses one by one would let it
 * open as many connections as it cares to pick addresses.
 */
export function clientKey(ip: string): string {
  const parsed = parseClientIp(ip)
  if (!parsed) return ip
  if (parsed.family === 4) return formatIp(parsed)
  return `${formatIp({ family: 6, value: parsed.value & ~V6_HOST_BITS })}/64`
}

/**
 * Open SMTP connections per client in this process, so that one client cannot hold every file
 * descriptor of the MX. Every open connection counts, refused ones too until they close.
 */
export class ConnectionsPerClient {
  private readonly open = new Map<string, number>()

  /** @param max most open connections per client; 0 means no limit. */
  constructor(private readonly max: number) {}

  /** Counts a new connection: `key` is what to give close(); the decision says whether to serve it. */
  opened(ip: string): { key: string; count: number; decision: Decision | null } {
    const key = clientKey(ip)
    const count = (this.open.get(key) ?? 0) + 1
    this.open.set(key, count)
    const over = this.max > 0 && count > this.max
    return {
      key,
      count,
      decision: over ? answer('tooManyConnections', { ip, max: this.max }) : null,
    }
  }

  closed(key: string): void {
    const count = (this.open.get(key) ?? 0) - 1
    if (count > 0) this.open.set(key, count)
    else this.open.delete(key)
  }

  /** Open connections counted against this client (for logs and tests). */
  countFor(ip: string): number {
    return this.open.get(clientKey(ip)) ?? 0
  }
}
