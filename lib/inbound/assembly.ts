/**
 * Long SMS from phones arrive as several deliver_sm, in any order, maybe twice. Each part is
 * acknowledged to the SMSC only once it is stored, so parts are kept in the database
 * (inbound_sms_parts) until the set is complete; then one transaction stores the whole SMS and
 * marks its parts assembled (total negated). A set that stays incomplete longer than
 * `staleAfterMs` is stored with what came, the gaps marked, rather than lost.
 *
 * Assembled parts stay for `staleAfterMs`: a part the SMSC redelivers after its SMS was stored
 * (its acknowledgement got lost) is recognised, same octets, and dropped, instead of starting
 * a set that would be mailed a day later as a fragment. A new SMS that reuses the reference
 * has other octets, and is assembled as usual. The SMS a set makes holds a key of its parts and
 * reference (redelivery.ts): the same long text sent again, under a new reference, is new.
 */

import { isMysql, type Db } from '../db/connection'
import { decodeUserData, encodingOf, type MoPart } from './decode'
import { receiveInboundSms, takeSqliteWriteLock, type IntakeLog, type IntakeResult } from './intake'
import { partKey, setKey } from './redelivery'

export const DEFAULT_STALE_AFTER_MS = 24 * 3600_000

/** Shown in the text where a part never arrived. */
export const MISSING_PART_MARK = '[…]'

interface SetKey {
  from_addr: string
  to_addr: string
  ref: number
  total: number
}

export interface AssemblyOptions {
  source: 'smpp' | 'webhook'
  log?: IntakeLog
}

/** Stores a single-part SMS at once, or keeps a part and stores the SMS if it completes it. */
export async function acceptMoPart(
  db: Db,
  part: MoPart,
  receivedAt: number,
  options: AssemblyOptions,
): Promise<IntakeResult | null> {
  const log = options.log ?? (() => undefined)
  if (part.concat === null) {
    const { text, encoding } = decodeUserData(part.dataCoding, part.body)
    return receiveInboundSms(
      db,
      {
        from: part.from,
        to: part.to,
        fromTon: part.fromTon,
        toTon: part.toTon,
        text,
        encoding,
        parts: 1,
        source: options.source,
        heldKey: heldKeyFor(options.source, () => partKey(part)),
        receivedAt,
      },
      log,
    )
  }
  const key: SetKey = {
    from_addr: part.from.slice(0, 32),
    to_addr: part.to.slice(0, 32),
    ref: part.concat.ref,
    total: part.concat.total,
  }
  if (await alreadyAssembled(db, key, part)) {
    log(
      `inbound part repeated after its SMS was stored from=${part.from} ref=${key.ref} seq=${part.concat.seq}: dropped`,
    )
    return null
  }
  const stored = await storePart(db, key, part, receivedAt, options.source)
  if (!stored) log(`inbound part repeated from=${part.from} ref=${key.ref} seq=${part.concat.seq}`)
  return assembleSet(db, key, { force: false, log })
}

/** Only an SMSC redelivers what it got no acknowledgement for: see redelivery.ts. */
function heldKeyFor(source: 'smpp' | 'webhook', key: () => string): string | undefined {
  return source === 'smpp' ? key() : undefined
}

/** Assembled parts keep their set with the total negated: out of the way of a new set. */
const assembledTotal = (total: number): number => -total

async function alreadyAssembled(db: Db, key: SetKey, part: MoPart): Promise<boolean> {
  const row = await db('inbound_sms_parts')
    .where({ ...key, total: assembledTotal(key.total), seq: part.concat!.seq })
    .where('body', part.body)
    .first('id')
  return row !== undefined
}

async function storePart(
  db: Db,
  key: SetKey,
  part: MoPart,
  receivedAt: number,
  source: string,
): Promise<boolean> {
  const row = {
    ...key,
    seq: part.concat!.seq,
    from_ton: part.fromTon,
    to_ton: part.toTon,
    data_coding: part.dataCoding,
    body: part.body,
    source,
    received_at: receivedAt,
  }
  if (isMysql(db)) {
    // Not INSERT IGNORE, which would also store a damaged row on a length error.
    const { sql, bindings } = db('inbound_sms_parts').insert(row).toSQL().toNative()
    const [header] = await db.raw(`${sql} on duplicate key update id = id`, bindings)
    return header.affectedRows === 1
  }
  const inserted = await db('inbound_sms_parts')
    .insert(row)
    .onConflict(['from_addr', 'to_addr', 'ref', 'total', 'seq'])
    .ignore()
  return Array.isArray(inserted) && inserted.length > 0 && Number(inserted[0]) > 0
}

interface PartRow {
  id: number
  seq: number
  from_ton: number
  to_ton: number
  data_coding: number
  body: Buffer
  source: 'smpp' | 'webhook'
  received_at: number
}

/**
 * The set's text: the parts' octets joined and decoded once, so a character the phone split
 * across two parts comes out whole; runs separated by a missing part are decoded apart.
 */
function joinParts(parts: PartRow[], total: number): { text: string; encoding: string } {
  const bySeq = new Map(parts.map((p) => [p.seq, p]))
  const dataCoding = parts[0].data_coding
  const pieces: string[] = []
  let run: Buffer[] = []
  const endRun = () => {
    if (run.length > 0) pieces.push(decodeUserData(dataCoding, Buffer.concat(run)).text)
    run = []
  }
  for (let seq = 1; seq <= total; seq++) {
    const part = bySeq.get(seq)
    if (part) {
      run.push(Buffer.from(part.body))
      continue
    }
    endRun()
    if (pieces[pieces.length - 1] !== MISSING_PART_MARK) pieces.push(MISSING_PART_MARK)
  }
  endRun()
  return { text: pieces.join(' '), encoding: encodingOf(dataCoding) }
}

/**
 * Stores the set as one SMS when it is complete (or, with `force`, whatever it has), in the
 * transaction that marks its parts assembled. Of two workers finishing one set at the same
 * moment, the second finds no parts left (locked then marked by the first) and does nothing.
 */
async function assembleSet(
  db: Db,
  key: SetKey,
  opts: { force: boolean; log: IntakeLog },
): Promise<IntakeResult | null> {
  return db.transaction(
    async (trx) => {
      await takeSqliteWriteLock(trx)
      const query = trx('inbound_sms_parts').where(key).orderBy('seq')
      const rows = (isMysql(trx) ? await query.forUpdate() : await query) as PartRow[]
      if (rows.length === 0) return null
      if (rows.length < key.total && !opts.force) return null
      // The set assembled before under this key (a reused reference) makes way for this one.
      await trx('inbound_sms_parts')
        .where({ ...key, total: assembledTotal(key.total) })
        .delete()
      await trx('inbound_sms_parts')
        .whereIn(
          'id',
          rows.map((r) => r.id),
        )
        .update({ total: assembledTotal(key.total) })
      const { text, encoding } = joinParts(rows, key.total)
      const missing = key.total - rows.length
      if (missing > 0) {
        opts.log(
          `inbound incomplete from=${key.from_addr} ref=${key.ref}: ${rows.length} of ${key.total} parts came; stored as it is`,
        )
      }
      return receiveInboundSms(
        trx,
        {
          from: key.from_addr,
          to: key.to_addr,
          fromTon: Number(rows[0].from_ton),
          toTon: Number(rows[0].to_ton),
          text,
          encoding,
          parts: rows.length,
          missingParts: missing,
          source: rows[0].source,
          heldKey: heldKeyFor(rows[0].source, () => setKey(key, rows)),
          receivedAt: Math.min(...rows.map((r) => Number(r.received_at))),
        },
        opts.log,
      )
    },
    // READ COMMITTED: no gap locks, which would deadlock with other parts being inserted.
    isMysql(db) ? { isolationLevel: 'read committed' } : undefined,
  )
}

/**
 * Stores every set that is complete (its last part's own assembly failed, say for a database
 * blip) or older than `staleAfterMs`, and forgets assembled parts that old. The worker runs
 * this at start and then now and then.
 */
export async function sweepParts(
  db: Db,
  now: number,
  staleAfterMs: number = DEFAULT_STALE_AFTER_MS,
  log: IntakeLog = () => undefined,
): Promise<IntakeResult[]> {
  await db('inbound_sms_parts')
    .where('total', '<', 0)
    .where('received_at', '<=', now - staleAfterMs)
    .delete()
  const sets: Array<Record<string, unknown>> = await db('inbound_sms_parts')
    .where('total', '>', 0)
    .select('from_addr', 'to_addr', 'ref', 'total')
    .min({ first: 'received_at' })
    .count({ n: '*' })
    .groupBy('from_addr', 'to_addr', 'ref', 'total')
  const stored: IntakeResult[] = []
  for (const set of sets) {
    const stale = Number(set.first) <= now - staleAfterMs
    if (!stale && Number(set.n) < Number(set.total)) continue
    const key: SetKey = {
      from_addr: String(set.from_addr),
      to_addr: String(set.to_addr),
      ref: Number(set.ref),
      total: Number(set.total),
    }
    const result = await assembleSet(db, key, { force: stale, log })
    if (result) stored.push(result)
  }
  return stored
}
