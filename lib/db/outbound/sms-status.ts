/**
 * An SMS's state. Final: delivered, undeliverable, expired, failed (refused at submit), partial
 * (some parts delivered, others not: its sender gets a notice) and unknown (the carrier took it
 * but no final receipt came within worker.receipt_timeout_ms: no notice, nothing is known).
 */
export type SmsStatus =
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'failed'
  | 'expired'
  | 'undeliverable'
  | 'partial'
  | 'unknown'
