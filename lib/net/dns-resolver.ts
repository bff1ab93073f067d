import { promises as dnsPromises } from 'node:dns'

/**
 * The lookup function mailauth takes as its `resolver` option: the same
 * contract as `dns.promises.resolve(name, rrtype)`, including rejecting with
 * node:dns error codes (ENOTFOUND, ENODATA, ETIMEOUT, ESERVFAIL, ...), which
 * mailauth reads to tell "no record" from "try again later".
 */
export type SpfResolver = (name: string, rrtype: string) => Promise<unknown>

export interface ResolverStats {
  /** Answered from the cache, positive or negative. */
  hits: number
  /** Sent to the DNS servers. */
  misses: number
  /** Joined a lookup already in flight for the same name and type. */
  shared: number
  /** Entries held now. */
  size: number
}

export interface CachingResolver extends SpfResolver {
  readonly stats: ResolverStats
  clear(): void
}

export interface CachingResolverOptions {
  /** `ip`, `ip:port`, `[ipv6]:port`; the system's resolvers when absent. */
  servers?: string[]
  /** How long an answer, or a definite "no such record", is reused. */
  ttlMs?: number
  /** Per-attempt timeout of the underlying c-ares resolver. */
  timeoutMs?: number
  /** Attempts per server before ETIMEOUT. */
  tries?: number
  /** Bound on cached entries; the least recently used go first. */
  maxEntries?: number
}

interface CacheEntry {
  expires: number
  value?: unknown
  error?: NodeJS.ErrnoException
}

// Definite answers from an authoritative server. Everything else (SERVFAIL,
// timeouts, refused, connection errors) may be gone on the next attempt and
// is retried rather than remembered.
const NEGATIVE_CODES = new Set(['ENOTFOUND', 'ENODATA'])

function copyError(error: NodeJS.ErrnoException): NodeJS.ErrnoException {
  // mailauth writes its verdict onto the error it receives (`err.spfResult`);
  // a shared object would carry one check's verdict into the next.
  const copy: NodeJS.ErrnoException = new Error(error.message)
  copy.code = error.code
  copy.errno = error.errno
  copy.syscall = error.syscall
  const hostname = (error as { hostname?: unknown }).hostname
  if (hostname !== undefined) Object.assign(copy, { hostname })
  return copy
}

/**
 * A per-process cache in front of node:dns for SPF checks. SPF evaluation of
 * a popular sender domain repeats the same few TXT/A/MX lookups on every
 * message; caching them keeps the MAIL FROM hook fast and spares the
 * recursive resolver. Each caller gets its own copy of a result, because
 * mailauth sorts MX answers in place and annotates errors.
 */
export function createCachingResolver(options: CachingResolverOptions = {}): CachingResolver {
  const ttlMs = options.ttlMs ?? 60_000
  const maxEntries = options.maxEntries ?? 10_000
  const resolver = new dnsPromises.Resolver({
    timeout: options.timeoutMs ?? 2_000,
    tries: options.tries ?? 2,
  })
  if (options.servers?.length) resolver.setServers(options.servers)

  const cache = new Map<string, CacheEntry>()
  const inFlight = new Map<string, Promise<CacheEntry>>()
  const stats: ResolverStats = { hits: 0, misses: 0, shared: 0, size: 0 }
  // Bumped by clear(), so an answer that lands after it is not cached.
  let generation = 0

  function remember(key: string, entry: CacheEntry): void {
    cache.delete(key)
    cache.set(key, entry)
    // Map iteration order is insertion order, so the first key is the oldest.
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value as string)
    stats.size = cache.size
  }

  async function query(key: string, name: string, rrtype: string): Promise<CacheEntry> {
    stats.misses++
    const startedIn = generation
    try {
      const value: unknown = await resolver.resolve(name, rrtype)
      const entry = { expires: Date.now() + ttlMs, value }
      if (startedIn === generation) remember(key, entry)
      return entry
    } catch (err) {
      const error = err as NodeJS.ErrnoException
      const entry = { expires: Date.now() + ttlMs, error }
      const definite = error.code !== undefined && NEGATIVE_CODES.has(error.code)
      if (definite && startedIn === generation) remember(key, entry)
      return entry
    }
  }

  function settle(entry: CacheEntry): unknown {
    if (entry.error) throw copyError(entry.error)
    return structuredClone(entry.value)
  }

  const lookup = async (name: string, rrtype: string): Promise<unknown> => {
    const type = rrtype.toUpperCase()
    // DNS names are case-insensitive and `example.com.` is `example.com`.
    const host = name.toLowerCase().replace(/\.$/, '')
    const key = `${type} ${host}`

    const cached = cache.get(key)
    if (cached && cached.expires > Date.now()) {
      stats.hits++
      remember(key, cached)
      return settle(cached)
    }
    if (cached) {
      cache.delete(key)
      stats.size = cache.size
    }

    let pending = inFlight.get(key)
    if (pending) {
      stats.shared++
    } else {
      const started = query(key, host, type)
      inFlight.set(key, started)
      // query() never rejects: failures come back as entries.
      void started.then(() => {
        if (inFlight.get(key) === started) inFlight.delete(key)
      })
      pending = started
    }
    return settle(await pending)
  }

  return Object.assign(lookup, {
    stats,
    clear(): void {
      generation++
      cache.clear()
      inFlight.clear()
      stats.hits = 0
      stats.misses = 0
      stats.shared = 0
      stats.size = 0
    },
  })
}
