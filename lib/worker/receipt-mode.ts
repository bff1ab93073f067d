import type { ReceiptMode } from './receipts'

/** Long SMS settled from one part's receipt, with no sign of receipts per part, before deciding. */
export const PER_MESSAGE_AFTER = 3

/**
 * receipts=auto: which way this worker settles receipts now. It starts per part. A long SMS
 * whose other parts never got a receipt (settled by the wait, see settleWaitedParts) hints at
 * an SMSC that reports once per message; after PER_MESSAGE_AFTER of them, and while no long SMS
 * has been seen getting receipts for two distinct parts, one receipt settles a whole SMS. Seeing
 * such an SMS later proves receipts per part: back to per part, for good. In memory: a new
 * worker learns again, at the cost of PER_MESSAGE_AFTER waits.
 */
export class ReceiptModeChooser {
  private waitedOut = 0
  private perPartSeen = false
  private perMessage = false

  constructor(
    private readonly configured: ReceiptMode,
    private readonly log: (line: string) => void,
  ) {}

  /** The mode to apply receipts with now: never 'auto'. */
  get mode(): Exclude<ReceiptMode, 'auto'> {
    if (this.configured !== 'auto') return this.configured
    return this.perMessage ? 'per_message' : 'per_part'
  }

  /** True while receipts for distinct parts of one SMS would still change a decision. */
  get watchingParts(): boolean {
    return this.configured === 'auto' && !this.perPartSeen
  }

  /** A long SMS got final receipts for two or more distinct parts. */
  sawReceiptsPerPart(smsId: number): void {
    if (!this.watchingParts) return
    this.perPartSeen = true
    if (!this.perMessage) return
    this.perMessage = false
    this.log(`receipts mode=per_part reason="sms=${smsId} got receipts for 2+ parts"`)
  }

  /** Long SMS settled by the wait for receipts of their other parts. */
  settledByWait(count: number): void {
    if (this.configured !== 'auto' || count === 0) return
    this.waitedOut += count
    if (this.perPartSeen || this.perMessage || this.waitedOut < PER_MESSAGE_AFTER) return
    this.perMessage = true
    this.log(
      `receipts mode=per_message reason="${this.waitedOut} long SMS got a receipt for one part only"`,
    )
  }
}
