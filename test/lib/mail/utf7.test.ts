import assert from 'node:assert/strict'
import { decodeUtf7 } from '../../../lib/mail/utf7'

const utf7 = (text: string) => decodeUtf7(Buffer.from(text, 'latin1'))

describe('decodeUtf7 (RFC 2152)', () => {
  it('decodes the examples of the RFC', () => {
    assert.equal(utf7('A+ImIDkQ.'), 'A\u2262\u0391.')
    assert.equal(utf7('Hi Mom -+Jjo--!'), 'Hi Mom -\u263a-!')
    assert.equal(utf7('+ZeVnLIqe-'), '\u65e5\u672c\u8a9e')
  })

  it('reads "+-" as a plus sign and leaves text without shifts as it is', () => {
    assert.equal(utf7('1 +- 1 = 2'), '1 + 1 = 2')
    assert.equal(utf7('Rendez-vous à 15h'), 'Rendez-vous à 15h')
  })

  it('ends a shifted run at the first character outside base64, keeping it unless it is "-"', () => {
    assert.equal(utf7('caf+AOk.'), 'café.')
    assert.equal(utf7('caf+AOk-s'), 'cafés')
    assert.equal(utf7('caf+AOk'), 'café')
  })

  it('joins surrogate pairs and drops half of one', () => {
    assert.equal(utf7('+2D3eAA-'), '\u{1f600}')
    assert.equal(utf7('x+2D0-y'), 'xy')
  })

  it('decodes a run longer than the engine takes as arguments', () => {
    const run = '+' + 'AOkA6QDp'.repeat(40_000) + '-'
    assert.equal(utf7(run), 'é'.repeat(120_000))
  })
})
