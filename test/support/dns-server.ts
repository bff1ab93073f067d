import dgram from 'node:dgram'
import net from 'node:net'
import * as dnsPacket from 'dns-packet'

/**
 * A small authoritative DNS server for tests, on loopback, over UDP and TCP.
 * Real resolvers (c-ares behind node:dns) talk to it, so tests exercise the
 * same wire path as production: truncation and the TCP retry, NXDOMAIN versus
 * NODATA, SERVFAIL, and a server that never answers.
 */

export interface DnsRecords {
  /** One entry per TXT record; an array entry is one record split into several strings. */
  TXT?: Array<string | string[]>
  A?: string[]
  AAAA?: string[]
  MX?: Array<{ priority: number; exchange: string }>
  PTR?: string[]
  /** Answer every query for this name with SERVFAIL. */
  servfail?: true
  /** Answer every query for this name with REFUSED. */
  refused?: true
  /** Never answer queries for this name. */
  timeout?: true
  /**
   * The name takes this long to resolve, like a recursive server waiting on a slow
   * authoritative one: every query for it, retries included, is answered once this many ms
   * have passed since the first; later ones at once, as from the server's cache.
   */
  resolvesAfterMs?: number
}

/** Lower-case names without the trailing dot. A name absent from the zone is NXDOMAIN. */
export type DnsZone = Record<string, DnsRecords>

export interface DnsQueryLog {
  name: string
  type: string
  transport: 'udp' | 'tcp'
}

export interface DnsServerOptions {
  /** Loopback address to bind; `::1` for IPv6. */
  address?: string
  /**
   * Largest UDP answer before the TC bit is set. Defaults to what the query
   * advertises with EDNS, or 512 without it; lower it to force TCP.
   */
  udpMaxSize?: number
  ttl?: number
}

export interface DnsServer {
  port: number
  address: string
  /** `host:port` in the form dns.Resolver#setServers takes. */
  server: string
  queries: DnsQueryLog[]
  setZone(zone: DnsZone): void
  close(): Promise<void>
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const

function splitTxt(value: string | string[]): string[] {
  const strings = Array.isArray(value) ? value : [value]
  // A character-string holds at most 255 bytes; long SPF records are split by
  // publishers the same way.
  return strings.flatMap((s) => {
    const chunks: string[] = []
    for (let i = 0; i < s.length; i += 255) chunks.push(s.slice(i, i + 255))
    return chunks.length ? chunks : ['']
  })
}

function answersFor(name: string, type: string, records: DnsRecords, ttl: number) {
  const answers: dnsPacket.Answer[] = []
  const base = { name, ttl, class: 'IN' as const }
  if (type === 'TXT') {
    for (const txt of records.TXT ?? []) answers.push({ ...base, type: 'TXT', data: splitTxt(txt) })
  } else if (type === 'A') {
    for (const a of records.A ?? []) answers.push({ ...base, type: 'A', data: a })
  } else if (type === 'AAAA') {
    for (const a of records.AAAA ?? []) answers.push({ ...base, type: 'AAAA', data: a })
  } else if (type === 'MX') {
    for (const mx of records.MX ?? []) {
      answers.push({
        ...base,
        type: 'MX',
        data: { preference: mx.priority, exchange: mx.exchange },
      })
    }
  } else if (type === 'PTR') {
    for (const ptr of records.PTR ?? []) answers.push({ ...base, type: 'PTR', data: ptr })
  }
  return answers
}

function flagsWith(rcode: number): number {
  return (
    dnsPacket.AUTHORITATIVE_ANSWER |
    dnsPacket.RECURSION_DESIRED |
    dnsPacket.RECURSION_AVAILABLE |
    rcode
  )
}

function listen(
  emitter: dgram.Socket | net.Server,
  start: (done: () => void) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    emitter.once('error', reject)
    start(() => {
      emitter.off('error', reject)
      resolve()
    })
  })
}

export async function startDnsServer(
  initialZone: DnsZone,
  options: DnsServerOptions = {},
): Promise<DnsServer> {
  const address = options.address ?? '127.0.0.1'
  const ttl = options.ttl ?? 300
  let zone = initialZone
  const queries: DnsQueryLog[] = []
  // When each slow name and type is resolved, from its first query on.
  const resolvedAt = new Map<string, number>()
  // Held answers, cancelled at close() so none is sent on a closed socket.
  const held = new Set<NodeJS.Timeout>()

  function whenResolved(query: dnsPacket.DecodedPacket, send: () => void): void {
    const question = query.questions?.[0]
    const name = question?.name.toLowerCase().replace(/\.$/, '') ?? ''
    const delay = zone[name]?.resolvesAfterMs
    if (!delay) return send()
    const key = `${name} ${question?.type}`
    const at = resolvedAt.get(key) ?? Date.now() + delay
    resolvedAt.set(key, at)
    const wait = at - Date.now()
    if (wait <= 0) return send()
    const timer = setTimeout(() => {
      held.delete(timer)
      send()
    }, wait)
    held.add(timer)
  }

  /** The response to send, or undefined to stay silent. */
  function respond(
    query: dnsPacket.DecodedPacket,
    transport: 'udp' | 'tcp',
  ): dnsPacket.Packet | undefined {
    const question = query.questions?.[0]
    const base = { type: 'response' as const, id: query.id, questions: query.questions }
    if (!question) return { ...base, flags: flagsWith(RCODE.REFUSED) }
    const name = question.name.toLowerCase().replace(/\.$/, '')
    queries.push({ name, type: question.type, transport })
    const records = zone[name]
    if (!records) return { ...base, flags: flagsWith(RCODE.NXDOMAIN) }
    if (records.timeout) return undefined
    if (records.servfail) return { ...base, flags: flagsWith(RCODE.SERVFAIL) }
    if (records.refused) return { ...base, flags: flagsWith(RCODE.REFUSED) }
    // No answers with NOERROR is NODATA: the name exists, the type does not.
    return {
      ...base,
      flags: flagsWith(RCODE.NOERROR),
      answers: answersFor(question.name, question.type, records, ttl),
    }
  }

  function udpLimit(query: dnsPacket.DecodedPacket): number {
    if (options.udpMaxSize) return options.udpMaxSize
    const opt = query.additionals?.find((a) => a.type === 'OPT')
    return opt && 'udpPayloadSize' in opt ? Math.max(512, opt.udpPayloadSize) : 512
  }

  function onUdpMessage(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let query: dnsPacket.DecodedPacket
    try {
      query = dnsPacket.decode(msg)
    } catch {
      return
    }
    const response = respond(query, 'udp')
    if (!response) return
    let wire = dnsPacket.encode(response)
    if (wire.length > udpLimit(query)) {
      wire = dnsPacket.encode({
        ...response,
        answers: [],
        flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
      })
    }
    whenResolved(query, () => udp.send(wire, rinfo.port, rinfo.address))
  }

  const sockets = new Set<net.Socket>()
  const tcp = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let pending = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk])
      // Each message is prefixed with its 16-bit length (RFC 1035 §4.2.2).
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0)
        const message = pending.subarray(2, 2 + length)
        pending = pending.subarray(2 + length)
        let query: dnsPacket.DecodedPacket
        try {
          query = dnsPacket.decode(message)
        } catch {
          socket.destroy()
          return
        }
        const response = respond(query, 'tcp')
        if (response) whenResolved(query, () => socket.write(dnsPacket.streamEncode(response)))
      }
    })
  })

  // Resolvers retry truncated answers over TCP on the same port, so both
  // sockets need one port number; another process may hold the TCP side of a
  // free UDP port, hence a few attempts.
  let udp: dgram.Socket | undefined
  for (let attempt = 0; !udp; attempt++) {
    const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4')
    socket.on('message', (msg, rinfo) => onUdpMessage(socket, msg, rinfo))
    await listen(socket, (done) => socket.bind(0, address, done))
    try {
      await listen(tcp, (done) => tcp.listen(socket.address().port, address, done))
      udp = socket
      // Send errors (a client gone away) must not crash the test process.
      socket.on('error', () => undefined)
    } catch (err) {
      await new Promise<void>((resolve) => socket.close(() => resolve()))
      if (attempt >= 4) throw err
    }
  }
  const bound = udp
  const port = bound.address().port

  return {
    port,
    address,
    server: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`,
    queries,
    setZone(next: DnsZone) {
      zone = next
      resolvedAt.clear()
    },
    async close() {
      for (const timer of held) clearTimeout(timer)
      held.clear()
      for (const socket of sockets) socket.destroy()
      await Promise.all([
        new Promise<void>((resolve) => bound.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ])
    },
  }
}
