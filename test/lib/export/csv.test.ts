import assert from 'node:assert/strict'
import { csvField, csvRecord, defuseFormula } from '../../../lib/export/csv'
import { parseCsv } from '../../support/csv'

describe('lib/export/csv', () => {
  it('quotes fields with commas, quotes or line breaks, and doubles the quotes (RFC 4180)', () => {
    assert.equal(csvField('plain text'), 'plain text')
    assert.equal(csvField('a,b'), '"a,b"')
    assert.equal(csvField('say "hi"'), '"say ""hi"""')
    assert.equal(csvField('two\r\nlines'), '"two\r\nlines"')
    assert.equal(csvField('lf\nonly'), '"lf\nonly"')
    assert.equal(csvField(null), '')
    assert.equal(csvField(42), '42')
    assert.equal(csvRecord(['a', 'b,c', null, 3]), 'a,"b,c",,3\r\n')
  })

  it('reads back exactly, UTF-8 and emoji included', () => {
    const values = ['Ça coûte 5 € — "ok" ?', 'line 1\r\nline 2, still', '😀 réunion', '', 'x']
    assert.deepEqual(parseCsv(csvRecord(values) + csvRecord(['1', '2'])), [values, ['1', '2']])
  })

  it('marks cells a spreadsheet would run as formulas with a leading apostrophe', () => {
    for (const cell of [
      '=HYPERLINK("http://evil.example","click")',
      '+1+cmd|" /C calc"!A0',
      '-2+3',
      '@SUM(A1:A9)',
      '\t=1+1',
      '\r=1+1',
    ]) {
      assert.equal(defuseFormula(cell), `'${cell}`, cell)
    }
    assert.equal(csvField('=1+1'), "'=1+1")
    assert.equal(csvField('=A1,B1'), `"'=A1,B1"`)
  })

  it('leaves plain numbers and ordinary text alone: +33612345678 stays a phone number', () => {
    for (const cell of ['+33612345678', '-5', '+1.5', 'alice@example.com', 'Merci = ok', '3+4']) {
      assert.equal(defuseFormula(cell), cell)
    }
  })
})
