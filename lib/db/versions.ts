import type { Db } from './connection'

export type CacheName = 'directory'

/** Call inside the transaction that changes the cached tables. */
export async function bumpCacheVersion(trx: Db, name: CacheName): Promise<void> {
  await trx('cache_versions').where({ name }).increment('version', 1)
}

export async function readCacheVersion(db: Db, name: CacheName): Promise<number> {
  const row = await db('cache_versions').where({ name }).first('version')
  return row ? Number(row.version) : 0
}
