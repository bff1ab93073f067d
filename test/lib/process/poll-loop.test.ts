import assert from 'node:assert/strict'
import { FailureStreak } from '../../../lib/process/failure-streak'
import { PollLoop } from '../../../lib/process/poll-loop'

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function until(done: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!done() && Date.now() < deadline) await tick(5)
  assert.ok(done(), 'in time')
}

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

  it('tells its observer of each round: its name, how long it took, and whether it threw', async () => {
    const seen: Array<[string, number, boolean]> = []
    let rounds = 0
    const loop = new PollLoop(
      async () => {
        rounds += 1
        if (rounds === 2) throw new Error('database away')
        await tick(15)
        return rounds < 3 ? 0 : 60_000
      },
      {
        name: 'sms',
        observer: { round: (name, seconds, failed) => seen.push([name, seconds, failed]) },
        failures: {
          streak: new FailureStreak('claim SMS', () => undefined),
          initialMs: 1,
          maxMs: 1,
        },
      },
    )
    loop.start()
    await until(() => seen.length >= 3)
    await loop.stop()
    assert.deepEqual(
      seen.map(([name, , failed]) => [name, failed]),
      [
        ['sms', false],
        ['sms', true],
        ['sms', false],
      ],
    )
    assert.ok(seen[0][1] >= 0.01 && seen[0][1] < 1, `first round took ${seen[0][1]} s`)
  })

  it('backs off after a round that threw, doubling, and logs the outage once at each end', async () => {
    const lines: string[] = []
    const starts: number[] = []
    let rounds = 0
    const loop = new PollLoop(
      async () => {
        starts.push(Date.now())
        rounds += 1
        if (rounds <= 3) throw new Error('connect ECONNREFUSED')
        return 60_000
      },
      {
        failures: {
          streak: new FailureStreak('claim SMS', (l) => lines.push(l)),
          initialMs: 40,
          maxMs: 1000,
        },
      },
    )
    loop.start()
    await until(() => rounds >= 4)
    await tick(20)
    await loop.stop()
    assert.equal(rounds, 4, 'the loop went on after the failures')
    const pauses = starts.slice(1).map((at, i) => at - starts[i])
    assert.ok(pauses[0] >= 35 && pauses[1] >= 75 && pauses[2] >= 155, `pauses ${pauses}`)
    assert.equal(lines.length, 2)
    assert.match(lines[0], /^cannot claim SMS: connect ECONNREFUSED; retrying$/)
    assert.match(lines[1], /^claim SMS: working again after [\d.]+ s \(3 failed tries\)$/)
  })
})
