/**
 * How an MO that the SMSC delivers again is told from the same words sent again.
 *
 * An SMSC delivers an MO a second time only when it did not get our deliver_sm_resp with
 * status 0: we answered 0x64 (storing was slow or failed) or the session dropped first. So the
 * SMS stored from a deliver_sm keeps a key made of what SMPP gave (addresses, data_coding,
 * concatenation reference and numbers, the octets) until our status 0 is written on the socket,
 * and gives it up then. A deliver_sm that finds its key still held is that SMS again; one that
 * finds none is a new SMS, however like the last one it is: "OK" sent twice is mailed twice.
 *
 * A key nobody released (the SMSC gave up redelivering, or never got our answer and did not
 * try again) counts for MO_KEY_HOLD_MS only.
 */

import crypto from 'node:crypto'
import type { MoPart } from './decode'

/** SMSCs stop redelivering an MO well within a day (validity periods are hours). */
export const MO_KEY_HOLD_MS = 24 * 3600_000

const digest = (fields: Array<string | number>): string =>
  crypto.createHash('sha256').update(fields.join('\0')).digest('hex')

/**
 * The key of one deliver_sm: the SMS's own when it is a message in one part, the part's
 * otherwise (the set has a key of its own, setKey).
 */
export function partKey(part: MoPart): string {
  const concat = part.concat ? `${part.concat.ref}/${part.concat.total}/${part.concat.seq}` : ''
  return digest([
    'mo',
    part.from,
    part.fromTon,
    part.to,
    part.toTon,
    part.dataCoding,
    concat,
    part.body.toString('hex'),
  ])
}

/**
 * The key of a long SMS: its parts' octets and its reference, so that the same long text sent
 * again (under the phone's next reference) is a new SMS.
 */
export function setKey(
  set: { from_addr: string; to_addr: string; ref: number; total: number },
  parts: Array<{ seq: number; data_coding: number; body: Buffer }>,
): string {
  return digest([
    'mo-set',
    set.from_addr,
    set.to_addr,
    set.ref,
    set.total,
    parts[0]?.data_coding ?? '',
    ...parts.map((p) => `${p.seq}:${Buffer.from(p.body).toString('hex')}`),
  ])
}
