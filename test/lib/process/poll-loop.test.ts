import assert from 'node:assert/strict'
import { PollLoop } from '../../../lib/process/poll-loop'

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('PollLoop', () => {
  it('runs rounds back to back while they ask for no pause, and pauses when they ask', async () => {
    const started = Date.now()
    let rounds = 0
    const loop = new PollLoop(async () => {
      rounds += 1
      return rounds < 3 ? 0 : 60_000
    })
    loop.start()
    await tick(50)
    assert.equal(rounds, 3)
    await loop.stop()
    assert.ok(Date.now() - started < 1000, 'stop() ended the 60 s pause')
  })

  it('starts the next round at once on wake()', async () => {
    let rounds = 0
    const loop = new PollLoop(async () => {
      rounds += 1
      return 60_000
    })
    loop.start()
    await tick(20)
    loop.wake()
    await tick(20)
    assert.equal(rounds, 2)
    await loop.stop()
  })

  it('lets the round under way finish, then does not pause: stop() returns after it', async () => {
    let finish: () => void = () => undefined
    let finished = false
    const loop = new PollLoop(async () => {
      await new Promise<void>((resolve) => (finish = resolve))
      finished = true
      return 60_000
    })
    loop.start()
    await tick(10)
    const stopped = loop.stop()
    setTimeout(() => finish(), 20)
    const before = Date.now()
    await stopped
    assert.equal(finished, true)
    assert.ok(Date.now() - before < 1000, 'no pause after the last round')
  })

  it('starts once however often start() is called, and can start again after stop()', async () => {
    let rounds = 0
    const loop = new PollLoop(async () => {
      rounds += 1
      return 60_000
    })
    loop.start()
    loop.start()
    await tick(20)
    assert.equal(rounds, 1)
    await loop.stop()
    loop.start()
    await tick(20)
    assert.equal(rounds, 2)
    await loop.stop()
  })
})
