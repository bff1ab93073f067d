import net from 'node:net'

/** A loopback TCP relay a test can cut, to make a server "go down" for a client mid-test. */
export interface TcpProxy {
  port: number
  cut(): void
  close(): Promise<void>
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>()
  let down = false
  const server = net.createServer((client) => {
    if (down) return client.destroy()
    const upstream = net.connect(targetPort, targetHost)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      down = true
      for (const s of sockets) s.destroy()
    },
    close: () =>
      new Promise((resolve) => {
        down = true
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
