/**
 * The statements of delivery receipts on SMS and their parts. Which SMS a receipt is about and
 * which status follows from the parts are decided in lib/worker/receipts.ts; the statements
 * here run inside its transactions.
 */
import { isMysql, type Db } from '../connection'
import { marks, sqlPerCount, tuples } from '../sql-text'
import { insertRows, runStatement } from '../statement'
import { noticeDueColumns } from './results'

/** A receipt as kept in delivery_events, with the SMS it matched (null: none yet). */
export interface DeliveryEvent {
  smsId: number | null
  messageId: string
  state: string
  error: string | null
  handset: string | null
  handsetTon: number | null
  raw: string
}

const insertEventsSql = sqlPerCount(
  (rows) =>
    `INSERT INTO delivery_events
       (sms_id, smsc_message_id, state, error, handset, handset_ton, raw, received_at)
     VALUES ${tuples(rows, 8)}`,
)

/** Keeps these receipts, received at `now`. */
export async function insertDeliveryEvents(
  trx: Db,
  events: DeliveryEvent[],
  now: number,
): Promise<void> {
  const values: unknown[] = []
  for (const e of events) {
    values.push(e.smsId, e.messageId, e.state, e.error, e.handset, e.handsetTon, e.raw, now)
  }
  await insertRows(trx, insertEventsSql, 8, values)
}

/** A part stored under a carrier message id, with its SMS's recipient and trace. */
export interface PartUnderCarrierId {
  id: number | string
  sms_id: number | string
  smsc_message_id: string
  state: string
  recipient: string
  mx_transaction: string | null
  /** The SMS's submit_sm count (null before its first record). */
  parts: number | string | null
}

/**
 * Every part stored under these carrier ids, newest part first, with its SMS's recipient (to
 * compare with a receipt's handset), MX transaction (the log's trace) and part count.
 */
export async function findPartsByCarrierIds(
  trx: Db,
  carrierIds: string[],
): Promise<PartUnderCarrierId[]> {
  const keys = [...new Set(carrierIds)]
  if (keys.length === 0) return []
  return runStatement(trx, 'select', partsByCarrierIdsSql(keys.length, isMysql(trx)), keys)
}

const partsByCarrierIdsSql = sqlPerCount(
  (count) =>
    `SELECT p.id, p.sms_id, p.smsc_message_id, p.state, o.recipient, o.mx_transaction, o.parts
     FROM outbound_sms_parts p JOIN outbound_sms o ON o.id = p.sms_id
     WHERE p.smsc_message_id IN (${marks(count)}) ORDER BY p.id DESC`,
)

/**
 * The SMS stored under a carrier id (that of its newest part under it), with its account: a
 * status callback must name one of its own account's SMS. Null when no part has that id.
 */
export async function findNewestSmsByCarrierId(
  db: Db,
  carrierId: string,
): Promise<{ smsId: number; accountId: number } | null> {
  const newest = await db('outbound_sms_parts as p')
    .join('outbound_sms as o', 'o.id', 'p.sms_id')
    .where('p.smsc_message_id', carrierId)
    .orderBy('p.id', 'desc')
    .first('p.sms_id', 'o.account_id')
  if (!newest) return null
  return { smsId: Number(newest.sms_id), accountId: Number(newest.account_id) }
}

/**
 * The state of every part of these SMS. Call after lockSmsRows, in the same transaction. MySQL:
 * a locking read. Under REPEATABLE READ a plain read would see the snapshot this transaction
 * took before it waited for the SMS rows: not the parts another worker settled meanwhile, and
 * then neither transaction would settle the SMS.
 */
export async function readPartsOfLockedSms(
  trx: Db,
  smsIds: number[],
): Promise<Array<{ sms_id: number | string; part_no: number; state: string }>> {
  if (smsIds.length === 0) return []
  return runStatement(trx, 'select', partsOfLockedSmsSql(smsIds.length, isMysql(trx)), smsIds)
}

const partsOfLockedSmsSql = sqlPerCount(
  (count, mysql) =>
    `SELECT sms_id, part_no, state FROM outbound_sms_parts
     WHERE sms_id IN (${marks(count)})${mysql ? ' FOR UPDATE' : ''}`,
)

/** A 'sent' SMS failed for good (undeliverable, expired or partial): its sender is owed a notice. */
export async function settleSmsAsFailed(
  trx: Db,
  smsId: number,
  status: 'undeliverable' | 'expired' | 'partial',
  lastError: string,
  now: number,
): Promise<void> {
  await trx('outbound_sms')
    .where({ id: smsId, status: 'sent' })
    .update({
      status,
      final_at: now,
      updated_at: now,
      ...noticeDueColumns(now),
      last_error: lastError,
    })
}

/** Every part of these SMS still waiting for its receipt ends in `state`. */
export async function settleWaitingPartsOfSms(
  trx: Db,
  smsIds: number[],
  state: string,
  now: number,
): Promise<void> {
  await trx('outbound_sms_parts')
    .whereIn('sms_id', smsIds)
    .where('state', 'sent')
    .update({ state, final_at: now })
}

/** These parts, those still waiting for their receipt, end in `state`. */
export async function settleWaitingPartsById(
  trx: Db,
  partIds: number[],
  state: string,
  now: number,
): Promise<void> {
  if (partIds.length === 0) return
  await runStatement(trx, 'update', waitingPartsByIdSql(partIds.length, isMysql(trx)), [
    state,
    now,
    ...partIds,
  ])
}

const waitingPartsByIdSql = sqlPerCount(
  (count) =>
    `UPDATE outbound_sms_parts SET state = ?, final_at = ?
     WHERE id IN (${marks(count)}) AND state = 'sent'`,
)

/** The parts of this SMS still waiting for their receipt end in `state`. */
export async function settleWaitingPartsOfOneSms(
  trx: Db,
  smsId: number,
  state: string,
  now: number,
): Promise<void> {
  await trx('outbound_sms_parts')
    .where({ sms_id: smsId, state: 'sent' })
    .update({ state, final_at: now })
}

/**
 * Long SMS in 'sent' with a part that got one of `finalStates` at or before `cutoff`: at most
 * `limit` SMS ids, in no set order.
 */
export async function findLongSmsWithPartsFinalSince(
  db: Db,
  finalStates: readonly string[],
  cutoff: number,
  limit: number,
): Promise<Array<{ id: number; trace: string | null }>> {
  const waiting = await db('outbound_sms as o')
    .join('outbound_sms_parts as p', 'p.sms_id', 'o.id')
    .where('o.status', 'sent')
    .where('o.parts', '>', 1)
    .whereIn('p.state', finalStates)
    .where('p.final_at', '<=', cutoff)
    .distinct('o.id', 'o.mx_transaction')
    .limit(limit)
  return waiting.map((r) => ({
    id: Number(r.id),
    trace: (r.mx_transaction as string | null) ?? null,
  }))
}

/** The state of every part of these SMS (a plain read). */
export async function readPartStates(
  trx: Db,
  smsIds: number[],
): Promise<Array<{ sms_id: number | string; state: string }>> {
  return trx('outbound_sms_parts').whereIn('sms_id', smsIds).select('sms_id', 'state')
}

/**
 * SMS in 'sent' whose receipt deadline (next_attempt_at) has passed and that were sent at least
 * `timeoutMs` ago, oldest deadline first, at most `limit`: on MySQL locked, skipping rows
 * another transaction holds (another worker's sweep takes other rows; a receipt being applied
 * keeps its SMS).
 */
export async function takeSmsPastReceiptDeadline(
  trx: Db,
  now: number,
  timeoutMs: number,
  limit: number,
): Promise<Array<{ id: number; trace: string | null }>> {
  const due = trx('outbound_sms')
    .where('status', 'sent')
    .where('next_attempt_at', '<=', now)
    .where('sent_at', '<=', now - timeoutMs)
    .orderBy('next_attempt_at')
    .limit(limit)
    .select('id', 'mx_transaction')
  if (isMysql(trx)) due.forUpdate().skipLocked()
  return (await due).map((r) => ({
    id: Number(r.id),
    trace: (r.mx_transaction as string | null) ?? null,
  }))
}

/** These SMS got no final receipt in time: 'unknown', final, and no notice. */
export async function settleSmsAsUnknown(trx: Db, smsIds: number[], now: number): Promise<void> {
  await trx('outbound_sms')
    .whereIn('id', smsIds)
    .update({ status: 'unknown', final_at: now, updated_at: now })
}
