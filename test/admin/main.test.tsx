import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sessionSecret } from '../../admin/main'

describe('admin session secret file', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-secret-review-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('refuses to start on a file without a usable secret, and leaves it alone', () => {
    const file = path.join(dir, 'session.secret')
    for (const content of ['', 'short\n', `${'x'.repeat(31)}\n`]) {
      fs.writeFileSync(file, content, { mode: 0o600 })
      assert.throws(() => sessionSecret('', file), /no usable session secret/)
      assert.equal(fs.readFileSync(file, 'utf8'), content)
    }
  })

  it('writes a new secret whole, owner-only, and leaves no temporary file', () => {
    const file = path.join(dir, 'data', 'session.secret')
    const secret = sessionSecret('', file)
    assert.equal(fs.readFileSync(file, 'utf8'), `${secret}\n`)
    assert.equal(fs.statSync(file).mode & 0o777, 0o600)
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['session.secret'])
    assert.equal(sessionSecret('', file), secret)
  })
})
