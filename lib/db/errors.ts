/** Driver-neutral classification of database errors, so callers never read driver codes. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? ''
  return (
    code === 'ER_DUP_ENTRY' ||
    code.startsWith('SQLITE_CONSTRAINT_UNIQUE') ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  )
}

/** MySQL chose this transaction as a deadlock victim: running it again is the remedy. */
export function isDeadlock(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'ER_LOCK_DEADLOCK'
}
