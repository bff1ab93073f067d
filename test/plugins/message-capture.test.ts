import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  captureMessage,
  capturedMessage,
  MAX_CAPTURED_BYTES,
  readMessage,
  type CapturedStream,
} from '../../plugins/_shared/message-capture'

// Haraka's own transaction: the capture must give what its message stream gives.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createTransaction } = require('haraka/transaction') as {
  createTransaction(
    uuid: string,
    cfg: unknown,
  ): {
    message_stream: CapturedStream
    add_data(line: Buffer): void
    end_data(cb: () => void): void
    add_header(key: string, value: string): void
  }
}

const CFG = { headers: { max_lines: 1000 }, main: {} }
let sequence = 0

/**
 * Feeds `wire` (what the client sent after DATA, without the final dot; one character a byte)
 * line by line.
 */
function transactionWith(
  wire: string,
  before?: (t: ReturnType<typeof createTransaction>) => void,
  cfg: unknown = CFG,
) {
  const txn = createTransaction(`capture-test-${++sequence}`, cfg)
  captureMessage(txn.message_stream)
  before?.(txn)
  for (const line of wire.match(/[^\n]*\n|[^\n]+$/g) ?? [])
    txn.add_data(Buffer.from(line, 'latin1'))
  return txn
}

function streamData(stream: CapturedStream): Promise<Buffer> {
  return new Promise((resolve) => stream.get_data(resolve))
}

async function ended(txn: ReturnType<typeof createTransaction>): Promise<void> {
  await new Promise<void>((resolve) => txn.end_data(resolve))
}

const MESSAGES: Record<string, string> = {
  plain: 'From: a@example.com\r\nSubject: hi\r\n\r\nHello there\r\n',
  'dot-stuffed lines': 'Subject: dots\r\n\r\n..leading dot\r\n...two dots\r\nmid.dle\r\n',
  'bare LF line ends': 'Subject: lf\n\nline one\nline two\n..dot\n',
  'no blank line after the headers': 'Subject: busted\r\nthis is not a header\r\nbody\r\n',
  'UTF-8 text': Buffer.from(
    'Subject: =?UTF-8?Q?caf=C3=A9?=\r\n\r\nCafé à 10 h, ça marche ?\r\n',
  ).toString('latin1'),
  'only headers': 'Subject: nothing else\r\n',
  'header with a leading dot and a Latin-1 byte': '.X-Dot: yes\r\nSubject: caf\xe9\r\n\r\nbody\r\n',
  'a line Haraka cannot read as a header': 'Subject: a\r\nBad Header: b\r\n\r\nbody\r\n',
}

describe('MX message capture', () => {
  for (const [name, wire] of Object.entries(MESSAGES)) {
    it(`gives the bytes Haraka's message stream gives: ${name}`, async () => {
      const txn = transactionWith(wire)
      await ended(txn)
      const captured = capturedMessage(txn.message_stream)
      assert.ok(captured, 'captured')
      assert.equal(
        captured.toString('latin1'),
        (await streamData(txn.message_stream)).toString('latin1'),
      )
    })
  }

  it('undoes the stuffing of a dot only at the start of a line', async () => {
    const txn = transactionWith('Subject: x\r\n\r\n..a\r\nb..c\r\n')
    await ended(txn)
    assert.equal(
      capturedMessage(txn.message_stream)?.toString(),
      'Subject: x\r\n\r\n.a\r\nb..c\r\n',
    )
  })

  it('gives up past its size, and the stream is read instead', async () => {
    const line = `${'x'.repeat(998)}\r\n`
    const wire = `Subject: big\r\n\r\n${line.repeat(Math.ceil(MAX_CAPTURED_BYTES / line.length) + 1)}`
    const txn = transactionWith(wire)
    await ended(txn)
    assert.equal(capturedMessage(txn.message_stream), null)
    const read = await new Promise<Buffer>((resolve) => readMessage(txn.message_stream, resolve))
    assert.equal(read.length, (await streamData(txn.message_stream)).length)
    assert.ok(read.length > MAX_CAPTURED_BYTES)
  })

  it('writes the headers as Haraka parsed and changed them, as its stream does', async () => {
    const txn = transactionWith('Subject: x\r\nX-Folded: a\r\n b\r\n\r\nbody\r\n')
    txn.add_header('X-Added', 'later')
    await ended(txn)
    const captured = capturedMessage(txn.message_stream)?.toString()
    assert.equal(captured, (await streamData(txn.message_stream)).toString())
    assert.match(captured ?? '', /X-Added: later\r\n\r\nbody\r\n$/)
  })

  it('is not installed twice on one stream', async () => {
    const txn = transactionWith('Subject: x\r\n\r\nbody\r\n', (t) =>
      captureMessage(t.message_stream),
    )
    await ended(txn)
    assert.equal(capturedMessage(txn.message_stream)?.toString(), 'Subject: x\r\n\r\nbody\r\n')
  })

  it('has nothing for a stream it never watched', () => {
    const txn = createTransaction('capture-test-unwatched', CFG)
    assert.equal(capturedMessage(txn.message_stream), null)
  })

  it('leaves out the unlink of a spool file that was never written', async () => {
    const txn = transactionWith('Subject: x\r\n\r\nbody\r\n')
    await ended(txn)
    const unlink = fs.unlink
    let unlinks = 0
    fs.unlink = ((...args: Parameters<typeof unlink>) => (
      unlinks++,
      unlink(...args)
    )) as typeof unlink
    try {
      ;(txn.message_stream as CapturedStream).destroy()
    } finally {
      fs.unlink = unlink
    }
    assert.equal(unlinks, 0)
  })

  it('still removes the spool file of a message that outgrew memory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-spool-'))
    try {
      const cfg = { ...CFG, main: { spool_after: 64, spool_dir: dir } }
      const txn = transactionWith(
        `Subject: big\r\n\r\n${'spooled line\r\n'.repeat(50)}`,
        undefined,
        cfg,
      )
      await ended(txn)
      assert.equal(fs.readdirSync(dir).length, 1, 'spooled')
      assert.equal(
        capturedMessage(txn.message_stream)?.toString(),
        (await streamData(txn.message_stream)).toString(),
      )
      txn.message_stream.destroy()
      for (let i = 0; i < 100 && fs.readdirSync(dir).length > 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 10))
      assert.deepEqual(fs.readdirSync(dir), [])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
