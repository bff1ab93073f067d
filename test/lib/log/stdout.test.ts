import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { flushStdout, writeStdout } from '../../../lib/log/stdout'

const PROJECT = path.join(__dirname, '..', '..', '..')
const STDOUT_MODULE = path.join(PROJECT, 'lib', 'log', 'stdout')

describe('lib/log standard output', () => {
  it('writes the lines of one turn of the event loop in one write, in order', async () => {
    const writes: string[] = []
    const write = process.stdout.write
    process.stdout.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof write
    try {
      for (let i = 0; i < 100; i++) writeStdout(`line ${i}`)
      assert.equal(writes.length, 0, 'nothing written before the turn ends')
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.stdout.write = write
    }
    assert.equal(writes.length, 1)
    assert.equal(writes[0], Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(''))
  })

  it('writes at once past 64 KiB waiting', () => {
    const writes: string[] = []
    const write = process.stdout.write
    process.stdout.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof write
    try {
      for (let i = 0; i < 70; i++) writeStdout('x'.repeat(1023))
      assert.equal(writes.length, 1)
      assert.equal(writes[0].length, 64 * 1024)
      flushStdout()
    } finally {
      process.stdout.write = write
    }
    assert.equal(writes.join('').length, 70 * 1024)
  })

  it('loses no line when the process exits in the same turn, or dies of an exception', () => {
    for (const ending of ['process.exit(3)', "throw new Error('boom')"]) {
      const script = [
        `const { writeStdout } = require(${JSON.stringify(STDOUT_MODULE)})`,
        'for (let i = 0; i < 1000; i++) writeStdout(`line ${i}`)',
        ending,
      ].join('\n')
      const child = spawnSync(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', '-e', script],
        { encoding: 'utf8', cwd: PROJECT },
      )
      const lines = child.stdout.trim().split('\n')
      assert.equal(lines.length, 1000, `${ending}: ${child.stderr}`)
      assert.equal(lines[999], 'line 999')
    }
  })
})
