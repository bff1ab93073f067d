/**
 * The one owner of the outbound_sms table, its parts (outbound_sms_parts) and its daily counts
 * (sms_daily_rollup, sms_daily_delta): every statement that names them is in this folder, by
 * concern. The rest of the code calls these functions;
 * the policy they serve (receipt matching, which status follows, retries) stays with it.
 * test/lib/db/outbound/owner.test.ts keeps it so.
 */
export * from './sms-status'
export * from './enqueue'
export * from './list'
export * from './log'
export * from './daily-counts'
export * from './daily-rollup'
export * from './usage'
export * from './claim'
export * from './results'
export * from './receipts'
export * from './status-moves'
export * from './notices'
export * from './replies'
export * from './status-report'
export * from './export'
export * from './dedupe-key'
