import assert from 'node:assert/strict'
import { PER_MESSAGE_AFTER, ReceiptModeChooser } from '../../../lib/worker/receipt-mode'

describe('lib/worker receipt-mode', () => {
  it('auto: per part, then per message after enough long SMS settled by the wait', () => {
    const lines: string[] = []
    const chooser = new ReceiptModeChooser('auto', (l) => lines.push(l))
    assert.equal(chooser.mode, 'per_part')
    chooser.settledByWait(PER_MESSAGE_AFTER - 1)
    assert.equal(chooser.mode, 'per_part')
    chooser.settledByWait(1)
    chooser.settledByWait(1)
    assert.equal(chooser.mode, 'per_message')
    assert.deepEqual(lines, [
      'receipts mode=per_message reason="3 long SMS got a receipt for one part only"',
    ])
  })

  it('auto: changes its mind once, when a long SMS gets receipts for two parts', () => {
    const lines: string[] = []
    const chooser = new ReceiptModeChooser('auto', (l) => lines.push(l))
    chooser.settledByWait(PER_MESSAGE_AFTER)
    chooser.sawReceiptsPerPart(42)
    chooser.sawReceiptsPerPart(43)
    chooser.settledByWait(10)
    assert.equal(chooser.mode, 'per_part')
    assert.equal(chooser.watchingParts, false)
    assert.equal(lines.length, 2)
    assert.equal(lines[1], 'receipts mode=per_part reason="sms=42 got receipts for 2+ parts"')
  })

  it('auto: receipts per part seen first, it never switches', () => {
    const lines: string[] = []
    const chooser = new ReceiptModeChooser('auto', (l) => lines.push(l))
    chooser.sawReceiptsPerPart(1)
    chooser.settledByWait(100)
    assert.equal(chooser.mode, 'per_part')
    assert.deepEqual(lines, [])
  })

  it('a configured mode is kept whatever is seen', () => {
    const chooser = new ReceiptModeChooser('per_message', () => assert.fail('no log'))
    chooser.sawReceiptsPerPart(1)
    assert.equal(chooser.mode, 'per_message')
    const perPart = new ReceiptModeChooser('per_part', () => assert.fail('no log'))
    perPart.settledByWait(100)
    assert.equal(perPart.mode, 'per_part')
  })
})
