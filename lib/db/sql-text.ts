/**
 * SQL text of statements run many times with a varying number of values (the worker's writes of
 * a batch of SMS): written by hand once per row count and backend, then kept, for runStatement
 * (lib/db/statement.ts). knex's builder spends more CPU writing such a statement, every time,
 * than the driver spends sending it.
 */

/** Counts above this are written each time: kept, they would pile up text nobody reuses. */
const KEPT_UP_TO = 512

/** `?, ?, ?`: `count` placeholders. */
export function marks(count: number): string {
  return count === 1 ? '?' : `?${', ?'.repeat(count - 1)}`
}

/** `(?, ?), (?, ?)`: `rows` tuples of `width` placeholders, for a multi-row VALUES. */
export function tuples(rows: number, width: number): string {
  const tuple = `(${marks(width)})`
  return rows === 1 ? tuple : `${tuple}${`, ${tuple}`.repeat(rows - 1)}`
}

/**
 * `write(count, mysql)` remembered per count and backend: MySQL's text may name an index or
 * lock rows where SQLite's cannot.
 */
export function sqlPerCount(
  write: (count: number, mysql: boolean) => string,
): (count: number, mysql: boolean) => string {
  const kept = new Map<number, string>()
  return (count, mysql) => {
    if (count > KEPT_UP_TO) return write(count, mysql)
    const key = mysql ? count : -count
    let sql = kept.get(key)
    if (sql === undefined) {
      sql = write(count, mysql)
      kept.set(key, sql)
    }
    return sql
  }
}
