import assert from 'node:assert/strict'
import { openDb } from '../../../lib/db/connection'
import {
  CLUSTER_LOCK_TABLE,
  freeClusterLock,
  isGaleraNode,
  withClusterLock,
} from '../../../lib/db/migration-lock'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// The lock a Galera cluster migrates under; its statements are plain MySQL, so it is checked
// here on the shared server, and between real nodes by npm run test:cluster.
describe('lib/db/migration-lock', function () {
  this.timeout(30_000)
  if (!databaseKinds().includes('mysql')) return
  let t: TestDatabase

  beforeEach(async () => {
    t = await createTestDatabase('mysql', { migrate: false })
  })

  afterEach(async () => t?.drop())

  it('tells a plain server from a Galera node', async () => {
    assert.equal(await isGaleraNode(t.db), false)
  })

  it('lets one holder at a time run, from several pools at once', async () => {
    const pools = [openDb(t.config), openDb(t.config), openDb(t.config)]
    let inside = 0
    let most = 0
    try {
      await Promise.all(
        pools.map((db) =>
          withClusterLock(db, { timeoutMs: 20_000, pollMs: 50 }, async () => {
            inside++
            most = Math.max(most, inside)
            await sleep(300)
            inside--
          }),
        ),
      )
    } finally {
      await Promise.all(pools.map((db) => db.destroy()))
    }
    assert.equal(most, 1)
    const [row] = await t.db(CLUSTER_LOCK_TABLE).select('holder')
    assert.equal(row.holder, null, 'released after the last holder')
  })

  it('gives up after its timeout while another holds it, and takes over once it expires', async () => {
    let release = () => undefined as void
    const held = new Promise<void>((r) => (release = r))
    const holding = withClusterLock(t.db, { timeoutMs: 1000, expireMs: 60_000 }, () => held)
    await sleep(200)
    await assert.rejects(
      withClusterLock(t.db, { timeoutMs: 300, pollMs: 50 }, async () => undefined),
      /another node has been migrating/,
    )
    // A holder that died: its row stays, with a lease that has run out.
    await t.db(CLUSTER_LOCK_TABLE).update({ expires_at: Date.now() - 1 })
    assert.equal(
      await withClusterLock(t.db, { timeoutMs: 1000, pollMs: 50 }, async () => 'taken over'),
      'taken over',
    )
    release()
    await holding
  })

  it('is renewed while its holder runs, and freed by hand', async () => {
    await withClusterLock(t.db, { timeoutMs: 1000, expireMs: 2000, renewMs: 100 }, async () => {
      const [first] = await t.db(CLUSTER_LOCK_TABLE).select('expires_at')
      await sleep(400)
      const [later] = await t.db(CLUSTER_LOCK_TABLE).select('expires_at')
      assert.ok(Number(later.expires_at) > Number(first.expires_at), 'not renewed')
      await freeClusterLock(t.db)
      const [freed] = await t.db(CLUSTER_LOCK_TABLE).select('holder')
      assert.equal(freed.holder, null)
    })
  })
})
