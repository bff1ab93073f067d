/**
 * The message as it arrives, kept beside Haraka's message stream, so that the end of DATA reads
 * it without a stream pipeline.
 *
 * Haraka's `message_stream.get_data()` builds three streams and a line transformer for every
 * message: a tenth of the MX's sampled time per message in a CPU profile, for the one-SMS email
 * most senders send.
 * The lines Haraka hands the stream (`add_line`) are the wire lines, still dot-stuffed; undoing
 * the stuffing, and writing the headers as the stream does (capturedMessage), gives the bytes
 * `get_data()` gives. Past `MAX_CAPTURED_BYTES`, or should a piece ever come without its line
 * end, the capture gives up and the caller reads the stream as before.
 */

/** The parts of Haraka's message stream the capture touches. */
export interface CapturedStream {
  add_line(line: Buffer | string): unknown
  headers: unknown[]
  get_data(cb: (data: Buffer) => void): void
  /** Set once the message outgrew memory and is being written to a spool file. */
  spooling: boolean
  destroy(): void
}

/**
 * Larger messages are read from the stream: holding a second copy of each line costs memory,
 * and what the capture saves is per message, not per byte.
 */
export const MAX_CAPTURED_BYTES = 256 * 1024

const CAPTURE = Symbol('mail2sms.capture')

interface Capture {
  lines: Buffer[]
  bytes: number
  complete: boolean
}

type Capturing = CapturedStream & { [CAPTURE]?: Capture }

/** Starts keeping the lines of `stream`; called once per transaction, before DATA. */
export function captureMessage(stream: CapturedStream): void {
  const target = stream as Capturing
  if (target[CAPTURE]) return
  const capture: Capture = { lines: [], bytes: 0, complete: true }
  target[CAPTURE] = capture
  skipCleanupOfUnwrittenSpool(stream)
  const addLine = stream.add_line
  stream.add_line = function (this: CapturedStream, line: Buffer | string) {
    if (capture.complete) {
      const buf = typeof line === 'string' ? Buffer.from(line) : line
      capture.bytes += buf.length
      // Haraka hands whole lines; a piece without its LF would need the stream's own splitting.
      const previous = capture.lines[capture.lines.length - 1]
      if (
        capture.bytes > MAX_CAPTURED_BYTES ||
        (previous?.[previous.length - 1] !== 0x0a && previous)
      ) {
        capture.complete = false
        capture.lines = []
      } else {
        capture.lines.push(buf)
      }
    }
    return addLine.call(this, line)
  }
}

/**
 * Haraka ends every transaction with `message_stream.destroy()`, which unlinks the message's
 * spool file even when none was written (a message that stayed in memory): a round trip
 * through libuv's thread pool for every message, to fail with ENOENT. The file only exists
 * once the stream is `spooling`; until then there is nothing to remove, and no open in flight
 * for destroy() to stop.
 */
function skipCleanupOfUnwrittenSpool(stream: CapturedStream): void {
  const destroy = stream.destroy
  stream.destroy = function (this: CapturedStream) {
    if (this.spooling) destroy.call(this)
  }
}

/**
 * Undoes SMTP's dot-stuffing (RFC 5321 §4.5.2): a line's leading ".." was a ".". The lines are
 * whole lines (see captureMessage), as Haraka's own transformer splits them.
 */
function unstuffed(lines: readonly Buffer[]): Buffer[] {
  return lines.map((line) =>
    line.length >= 2 && line[0] === 0x2e && line[1] === 0x2e ? line.subarray(1) : line,
  )
}

const isBlankLine = (line: Buffer): boolean =>
  (line.length === 2 && line[0] === 0x0d && line[1] === 0x0a) ||
  (line.length === 1 && line[0] === 0x0a)

const CRLF = Buffer.from('\r\n')

/**
 * The captured message, as `get_data()` would give it, or null when the stream must be read.
 * Once Haraka has parsed the headers, the stream writes them from that parse (the list the
 * transaction's header changes go to, without the headers it dropped as unsafe), with CRLF,
 * then the raw body after the first blank line; before that (no blank line seen), the raw
 * lines. The same is done here.
 */
export function capturedMessage(stream: CapturedStream): Buffer | null {
  const capture = (stream as Capturing)[CAPTURE]
  if (!capture?.complete) return null
  if (stream.headers.length === 0) return Buffer.concat(unstuffed(capture.lines))
  const head = stream.headers.map((h) => Buffer.from(String(h).replace(/\r?\n/g, '\r\n')))
  const end = capture.lines.findIndex(isBlankLine)
  const body = end === -1 ? [] : unstuffed(capture.lines.slice(end + 1))
  return Buffer.concat([...head, CRLF, ...body])
}

/** The message of `stream`: the captured copy when there is one, else through `get_data()`. */
export function readMessage(stream: CapturedStream, cb: (data: Buffer) => void): void {
  const captured = capturedMessage(stream)
  if (captured) return cb(captured)
  stream.get_data(cb)
}
