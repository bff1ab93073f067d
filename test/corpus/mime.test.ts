import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { corporaDir } from './corpora'
import { runMimeCorpus } from './mime'

/*
 * Every message of the shared mime/ corpus through a real MX. Without the corpus the run fails
 * (it is part of the checkout CI gets): a missing folder must not pass for a clean run.
 */
describe('mime corpus through the MX', function () {
  this.timeout(300_000)

  it('refuses each message with the reply its kind calls for, or sends only the author’s words', async () => {
    const dir = corporaDir()
    assert.ok(
      fs.existsSync(path.join(dir, 'mime')),
      `no mime corpus under ${dir} (set MAIL2SMS_CORPORA)`,
    )
    const report = await runMimeCorpus(dir)
    assert.ok(report.tried >= 128, `only ${report.tried} messages tried`)
    assert.equal(
      report.tried,
      report.accepted + Object.values(report.refused).reduce((a, b) => a + b, 0),
    )
    assert.deepEqual(report.violations, [])
  })
})
