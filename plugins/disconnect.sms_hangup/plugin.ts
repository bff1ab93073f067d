import type { Connection, Next, Plugin } from 'haraka'

/**
 * How long the MX keeps a connection after its last reply, for the client to read it and
 * close. Closing at once could reset the connection before the client read the reply.
 */
const LINGER_MS = 1000

export function register(this: Plugin): void {
  this.register_hook('disconnect', 'close_after_last_reply')
}

/**
 * Haraka ends its side after the last reply but keeps the socket until the client closes
 * its own, and after a command line over `line_length` (521) it has paused the socket, so it
 * never sees the client close: each such connection held a descriptor and its buffers until
 * the inactivity timeout, and enough of them made the MX exit on EMFILE. So the socket is
 * read again (what arrives now is dropped) and closed after LINGER_MS whatever the client does.
 */
export function close_after_last_reply(this: Plugin, next: Next, connection: Connection): void {
  const socket = connection.client?.targetsocket
  if (socket?.destroy && socket.resume && socket.once) {
    const destroy = socket.destroy.bind(socket)
    const timer = setTimeout(destroy, LINGER_MS)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
    socket.resume()
  }
  next()
}
