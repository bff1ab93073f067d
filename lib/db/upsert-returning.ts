import { isMysql, type Db } from './connection'

const known = new WeakMap<Db, Promise<boolean>>()

/**
 * Whether an upsert can return the rows it wrote in the same statement (`INSERT … ON DUPLICATE
 * KEY UPDATE … RETURNING` on MariaDB 10.5 and later, `INSERT … ON CONFLICT … RETURNING` on
 * SQLite 3.35 and later). MySQL has no RETURNING: its callers make a second statement. Both
 * backends return the row as it is after the update, duplicates included. Asked once per pool.
 */
export function upsertReturns(db: Db): Promise<boolean> {
  let answer = known.get(db)
  if (!answer) {
    answer = isMysql(db) ? serverHasReturning(db) : Promise.resolve(true)
    known.set(db, answer)
    // A failed probe (the database down at the first check) is asked again next time.
    answer.catch(() => known.delete(db))
  }
  return answer
}

/**
 * Takes `returns` as the answer for `db` without asking the server: tests run MySQL's two-step
 * path on MariaDB with it.
 */
export function assumeUpsertReturns(db: Db, returns: boolean): void {
  known.set(db, Promise.resolve(returns))
}

async function serverHasReturning(db: Db): Promise<boolean> {
  const [rows] = (await db.raw('select version() as version')) as [Array<{ version: string }>]
  return mariadbAtLeast(String(rows[0]?.version ?? ''), 10, 5)
}

/** `10.11.19-MariaDB-0+deb12u1` → true for 10.5; a MySQL version string → false. */
export function mariadbAtLeast(version: string, major: number, minor: number): boolean {
  if (!/mariadb/i.test(version)) return false
  const m = /^(\d+)\.(\d+)/.exec(version.replace(/^5\.5\.5-/, ''))
  if (!m) return false
  const [a, b] = [Number(m[1]), Number(m[2])]
  return a > major || (a === major && b >= minor)
}
