import type { Decision } from './decision'
import { answer } from './replies'
import { clientNetwork } from '../net/allowlist'

/** Whom a connection is counted against: the IPv4 address, or the IPv6 /64. */
export function clientKey(ip: string): string {
  return clientNetwork(ip)
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
}
