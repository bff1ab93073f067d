import assert from 'node:assert/strict'
import { normaliseWhitespace } from '../../../lib/text/normalise'

describe('normaliseWhitespace', () => {
  it('turns CRLF, CR and Unicode line separators into LF', () => {
    assert.equal(normaliseWhitespace('a\r\nb\rc\u2028d'), 'a\nb\nc\nd')
  })

  it('trims spaces at both ends of each line', () => {
    assert.equal(normaliseWhitespace('  indented  \nnext\t'), 'indented\nnext')
  })

  it('collapses runs of spaces, tabs and non-breaking spaces to one space', () => {
    assert.equal(normaliseWhitespace('a  b\t\tc \u00a0 d'), 'a b c d')
  })

  it('keeps a paragraph break as one blank line and never more', () => {
    assert.equal(
      normaliseWhitespace('Bonjour,\n\n\n\nRDV 10h.\n \t \nMerci'),
      'Bonjour,\n\nRDV 10h.\n\nMerci',
    )
  })

  it('keeps single line breaks', () => {
    assert.equal(normaliseWhitespace('ligne 1\nligne 2'), 'ligne 1\nligne 2')
  })

  it('reads NEL (U+0085) as a line break', () => {
    assert.equal(normaliseWhitespace('Hello\u0085world'), 'Hello\nworld')
  })

  it('trims blank lines and spaces at both ends', () => {
    assert.equal(normaliseWhitespace('\r\n \r\n  Hello \r\n\r\n'), 'Hello')
    assert.equal(normaliseWhitespace(' \n\t\n'), '')
  })
})
