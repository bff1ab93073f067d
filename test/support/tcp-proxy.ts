import net from 'node:net'

/** A loopback TCP relay a test can cut or freeze, to make a server fail for a client mid-test. */
export interface TcpProxy {
  port: number
  /** Closes every connection and refuses new ones: the server is gone. */
  cut(): void
  /**
   * Stops forwarding both ways without closing anything, new connections included: a server
   * (or a network path) that stops answering, which clients notice only by their own timeouts.
   */
  freeze(): void
  /** Forwards again, starting with what was held back while frozen. */
  thaw(): void
  /** Closes the connections open now but keeps accepting new ones. */
  resetConnections(): void
  /** Bytes relayed from clients to the server so far: a sign of life of the client. */
  bytesFromClients(): number
  close(): Promise<void>
}

type Pair = [client: net.Socket, upstream: net.Socket]

export async function startTcpProxy(
  targetHost: string,
  targetPort: number,
  /** `port`: listen there instead of on a free port (a server expected at a known address). */
  options: { port?: number } = {},
): Promise<TcpProxy> {
  // Every socket until it is itself closed (a pair's other half may outlive it), so that
  // close() never waits on one left over.
  const sockets = new Set<net.Socket>()
  const pairs = new Set<Pair>()
  let down = false
  let frozen = false
  let fromClients = 0
  const counted = new WeakSet<Pair>()
  const link = (pair: Pair): void => {
    const [client, upstream] = pair
    if (!counted.has(pair)) {
      counted.add(pair)
      client.on('data', (chunk: Buffer) => (fromClients += chunk.length))
    }
    client.pipe(upstream)
    upstream.pipe(client)
  }
  const destroyAll = (): void => {
    for (const s of sockets) s.destroy()
  }
  const server = net.createServer((client) => {
    if (down) return client.destroy()
    const upstream = net.connect(targetPort, targetHost)
    const pair: Pair = [client, upstream]
    pairs.add(pair)
    for (const s of pair) {
      sockets.add(s)
      // A relay passes a close on: one half closing ends the other.
      s.on('close', () => {
        sockets.delete(s)
        pairs.delete(pair)
        client.destroy()
        upstream.destroy()
      })
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    // A socket nobody reads from stays paused: what arrives while frozen waits in the kernel.
    if (!frozen) link(pair)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      down = true
      destroyAll()
    },
    freeze() {
      frozen = true
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
    },
    thaw() {
      if (!frozen) return
      frozen = false
      for (const pair of pairs) link(pair)
    },
    resetConnections() {
      frozen = false
      destroyAll()
    },
    bytesFromClients: () => fromClients,
    close: () =>
      new Promise((resolve) => {
        down = true
        destroyAll()
        server.close(() => resolve())
      }),
  }
}

/**
 * A relay in front of the server of a MySQL URL, and that URL pointed at the relay: what a
 * test hands a service whose database it will cut or freeze.
 */
export async function proxyMysqlUrl(dbUrl: string): Promise<{ proxy: TcpProxy; url: string }> {
  const url = new URL(dbUrl)
  const proxy = await startTcpProxy(url.hostname, Number(url.port || 3306))
  url.port = String(proxy.port)
  return { proxy, url: url.toString() }
}
