import net from 'node:net'

/**
 * A loopback TCP relay a test can cut (close every connection and refuse new ones) or freeze
 * (stop forwarding without closing anything: a link that stops answering), to make a server
 * "go down" for a client mid-test.
 */
export interface TcpProxy {
  port: number
  cut(): void
  /** Holds every byte, both ways, on open and new connections, until resume(). */
  freeze(): void
  resume(): void
  close(): Promise<void>
}

interface Link {
  client: net.Socket
  upstream: net.Socket | null
}

export async function startTcpProxy(
  targetHost: string,
  targetPort: number,
  options: { port?: number } = {},
): Promise<TcpProxy> {
  const links = new Set<Link>()
  let down = false
  let frozen = false

  const drop = (link: Link) => {
    link.client.destroy()
    link.upstream?.destroy()
    links.delete(link)
  }
  const flow = (link: Link) => {
    link.upstream ??= connectUpstream(link)
    link.client.pipe(link.upstream)
    link.upstream.pipe(link.client)
    link.client.resume()
    link.upstream.resume()
  }
  const hold = (link: Link) => {
    link.client.unpipe()
    link.upstream?.unpipe()
    link.client.pause()
    link.upstream?.pause()
  }
  const connectUpstream = (link: Link) => {
    const upstream = net.connect(targetPort, targetHost)
    upstream.on('error', () => drop(link))
    upstream.on('close', () => drop(link))
    return upstream
  }

  const server = net.createServer((client) => {
    if (down) return client.destroy()
    const link: Link = { client, upstream: null }
    links.add(link)
    client.on('error', () => drop(link))
    client.on('close', () => drop(link))
    if (frozen) client.pause()
    else flow(link)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      down = true
      for (const link of links) drop(link)
    },
    freeze() {
      frozen = true
      for (const link of links) hold(link)
    },
    resume() {
      if (!frozen) return
      frozen = false
      for (const link of links) flow(link)
    },
    close: () =>
      new Promise((resolve) => {
        down = true
        for (const link of links) drop(link)
        server.close(() => resolve())
      }),
  }
}
