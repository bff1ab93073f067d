import { isIP } from 'node:net'
import type { DNSResolver } from 'mailauth'
import { spf } from 'mailauth/lib/spf'
import type { SpfResolver } from '../net/dns-resolver'

export type SpfResultCode =
  'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror'

export interface SpfOutcome {
  result: SpfResultCode
  /** The domain whose policy was evaluated (the sender's, or the HELO name for `<>`). */
  domain: string
  /** One line for logs and SMTP replies. */
  explanation: string
}

export interface SpfInput {
  ip: string
  /** MAIL FROM address, without angle brackets; empty for the null sender. */
  sender: string
  helo?: string
  resolver: SpfResolver
  /** Upper bound for the whole evaluation, all DNS lookups included. */
  timeoutMs: number
  /** Our host name, quoted in the explanation. */
  mta?: string
}

const RESULTS: ReadonlySet<string> = new Set<SpfResultCode>([
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'temperror',
  'permerror',
])

type DnsError = Error & { code?: string; spfResult?: { error: string; text: string } }

/** Between two attempts at one name, at least this long, however fast a lookup fails. */
const MIN_RETRY_INTERVAL_MS = 250

/**
 * mailauth recognises ENOTFOUND/ENODATA (no record), ETIMEOUT and EREFUSED.
 * Any other failure (ESERVFAIL, ECONNREFUSED, ...) inside an `include:` or
 * `redirect=` is swallowed by mailauth 4.13 and evaluation carries on, so a
 * broken included domain could turn into `fail` and a 5xx. Labelling every
 * such failure as a temperror up front makes mailauth stop with it, as
 * RFC 7208 asks (§5.2 for include, §6.1 for redirect).
 */
function strictResolver(resolver: SpfResolver, isExpired: () => boolean): SpfResolver {
  return async (name, rrtype) => {
    for (;;) {
      if (isExpired()) {
        // Cut short the evaluation still running after we gave up on it, so it
        // does not keep querying DNS in the background.
        throw Object.assign(new Error('SPF check abandoned after timeout'), {
          code: 'ETIMEOUT',
        })
      }
      const started = Date.now()
      try {
        return await resolver(name, rrtype)
      } catch (err) {
        // mailauth annotates what it catches, which needs an object.
        const error = (err instanceof Error ? err : new Error(String(err))) as DnsError
        if (error.code === 'ETIMEOUT' && !error.spfResult && !isExpired()) {
          // c-ares gives up on a query after a second or two once its server has been
          // answering fast (its timeouts follow the server's usual latency), while the
          // recursive server may still be resolving the name. RFC 7208 §4.6.4 gives the
          // whole check 20 s: ask again while it has time left.
          const pause = MIN_RETRY_INTERVAL_MS - (Date.now() - started)
          if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause))
          continue
        }
        if (error.code !== 'ENOTFOUND' && error.code !== 'ENODATA' && !error.spfResult) {
          error.spfResult = {
            error: 'temperror',
            text: `DNS lookup of ${name} ${rrtype} failed: ${error.code ?? error.message}`,
          }
        }
        throw error
      }
    }
  }
}

// Mirrors how mailauth picks the domain, for results it never gets to produce.
function senderDomain(sender: string, helo: string | undefined): string {
  const domain = sender.slice(sender.lastIndexOf('@') + 1)
  return (domain || helo || '').trim().toLowerCase()
}

/**
 * Never rejects and never outlives `timeoutMs`: the MAIL FROM hook awaits it
 * and must answer the client in time, so every failure becomes a result.
 */
export async function checkSpf(input: SpfInput): Promise<SpfOutcome> {
  const domain = senderDomain(input.sender, input.helo)
  // Node reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d; SPF
  // must see them as IPv4 to match ip4: mechanisms.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(input.ip)
  const ip = mapped ? mapped[1] : input.ip
  if (isIP(ip) === 0) {
    return { result: 'temperror', domain, explanation: `not an IP address: "${input.ip}"` }
  }
  if (!domain) {
    return { result: 'none', domain, explanation: 'no sender domain or HELO name to check' }
  }

  let expired = false
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<SpfOutcome>((resolve) => {
    timer = setTimeout(() => {
      expired = true
      resolve({
        result: 'temperror',
        domain,
        explanation: `SPF check for ${domain} timed out after ${input.timeoutMs} ms`,
      })
    }, input.timeoutMs)
  })

  const evaluation = (async (): Promise<SpfOutcome> => {
    const response = await spf({
      ip,
      // mailauth checks postmaster@<helo> for the null sender (RFC 7208 §2.4).
      sender: input.sender || undefined,
      helo: input.helo,
      mta: input.mta,
      // mailauth's declared type only lists TXT-shaped answers, but it passes
      // MX and A lookups through the same function; ours returns them all.
      resolver: strictResolver(input.resolver, () => expired) as DNSResolver,
    })
    const status = response.status
    const result = RESULTS.has(status.result) ? (status.result as SpfResultCode) : 'temperror'
    return {
      result,
      domain: response.domain || domain,
      explanation: status.comment ?? `SPF ${result} for ${domain}`,
    }
  })().catch((err: unknown): SpfOutcome => ({
    result: 'temperror',
    domain,
    explanation: `SPF check for ${domain} failed: ${err instanceof Error ? err.message : String(err)}`,
  }))

  try {
    return await Promise.race([evaluation, timeout])
  } finally {
    clearTimeout(timer)
  }
}
