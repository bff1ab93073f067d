import assert from 'node:assert/strict'
import { removeControlCharacters } from '../../../lib/text/controls'

describe('removeControlCharacters', () => {
  it('removes NUL, BEL, DEL and the C1 range but keeps tab and line breaks', () => {
    assert.equal(
      removeControlCharacters('a\u0000b\u0007c\u007fd\u0090e\tf\r\ng\rh'),
      'abcde\tf\ng\nh',
    )
  })

  it('removes a terminal colour sequence whole, not only its ESC', () => {
    assert.equal(removeControlCharacters('\u001b[1;31mFAILED\u001b[0m backup'), 'FAILED backup')
  })

  it('removes direction overrides always, direction marks only beside left-to-right text', () => {
    assert.equal(removeControlCharacters('ok\u202e txt\u200e'), 'ok txt')
    assert.equal(removeControlCharacters('שלום\u200f 12'), 'שלום\u200f 12')
  })

  it('removes U+FFFD, noncharacters and lone surrogates, keeps emoji and joiners', () => {
    assert.equal(removeControlCharacters('phone\ufffd\ufffd \uffff\ud800x'), 'phone x')
    assert.equal(removeControlCharacters('👨\u200d👩\u200d👧 ok'), '👨\u200d👩\u200d👧 ok')
  })
})
