/**
 * The bits of a row's `purged` column: what the retention purge (lib/db/retention.ts) removed
 * from it. A module of its own so that each table's purge can name them.
 */
export const PURGED_TEXT = 1
export const PURGED_ADDRESSES = 2
