/**
 * What the retention purge (lib/db/retention.ts) removes from SMS sent: their text, and their
 * addresses, each once its own retention has passed since the SMS's final state.
 */
import { PURGED_ADDRESSES, PURGED_TEXT } from '../purged'
import type { Query, RowPurge } from '../retention'

/** Outbound states after which nothing happens to an SMS any more (see ./sms-status.ts). */
export const FINAL_OUTBOUND_STATES = [
  'delivered',
  'failed',
  'expired',
  'undeliverable',
  'partial',
  'unknown',
] as const

// A failure notice quotes the SMS to its sender: not before it is mailed (or skipped).
const noticeNotDue = (q: Query): void => {
  q.where((w) => w.whereNull('notice_status').orWhereNot('notice_status', 'due'))
}

/** Text first, then addresses: the order lib/db/retention.ts combines them in. */
export const OUTBOUND_PURGES: RowPurge[] = [
  {
    name: 'outbound_text',
    table: 'outbound_sms',
    index: 'outbound_sms_retention',
    time: 'final_at',
    states: FINAL_OUTBOUND_STATES,
    bit: PURGED_TEXT,
    blank: { body: '' },
    // A receipt's text carries the start of the message ("text:Meeting moved…").
    events: { raw: null },
    hold: noticeNotDue,
  },
  {
    name: 'outbound_addresses',
    table: 'outbound_sms',
    index: 'outbound_sms_retention',
    time: 'final_at',
    states: FINAL_OUTBOUND_STATES,
    bit: PURGED_ADDRESSES,
    // sender_id would name the sender as surely as the address; a Message-ID usually holds the
    // sender's domain or host.
    blank: { recipient: '', sender_email: '', sender_id: null, source_message_id: null },
    events: { handset: null, handset_ton: null },
    hold: noticeNotDue,
  },
]
