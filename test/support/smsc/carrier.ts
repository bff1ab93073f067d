/**
 * A test SMSC with the habits of real carriers, switchable one by one: message ids written in
 * hex in one place and decimal in another, receipts from a national number, one receipt per
 * long message, the same id for every segment, a submit rate past which it answers
 * ESME_RTHROTTLED, generic_nack for a part, an application that stops answering submits while
 * the link still answers enquire_link, and a default alphabet other than GSM for MO text.
 *
 * It is independent of the project's simulator and of the `smpp` package: plain node:net on
 * 127.0.0.1 and the codec in carrier-pdu.ts. It records what it received and sent for tests.
 */
import { EventEmitter } from 'node:events'
import net from 'node:net'
import {
  BodyWriter,
  CMD,
  ESM_DELIVERY_RECEIPT,
  ESM_UDHI,
  ESME,
  encodePdu,
  PduReader,
  readBind,
  readShortMessage,
  readUserData,
  TLV,
  writeShortMessage,
  type Concat,
  type Pdu,
} from './carrier-pdu'
import { decodeGsm7, encodeGsm7 } from './gsm7'

export type IdFormat = 'decimal' | 'hex' | 'hex-padded' | 'decimal-padded'
export type ReceiptStat = 'DELIVRD' | 'UNDELIV' | 'EXPIRED' | 'REJECTD'

export interface CarrierQuirks {
  /** Ids in submit_sm_resp: 'decimal' ("4000000123"), 'hex' ("ee6b287b"), 'hex-padded' (10
   *  upper-case hex digits, zero padded: "00EE6B287B"), 'decimal-padded' (20 digits). */
  respIdFormat: IdFormat
  /** Ids quoted in receipts (text "id:" and receipted_message_id TLV): 'same' as the resp, or
   *  the same number written in another format. */
  receiptIdFormat: 'same' | IdFormat
  /** Include the receipted_message_id / message_state TLVs (true) or text only (false). */
  receiptTlvs: boolean
  /** Receipt source_addr (the handset) and its TON: 'international' (33612345678, TON 1),
   *  'plus' (+33612345678, TON 1), 'national' (0612345678, TON 2), 'intl-00' (0033612345678,
   *  TON 0). */
  receiptSource: 'international' | 'plus' | 'national' | 'intl-00'
  /** 'per-part': one receipt per submit_sm; 'per-message': one per concatenated message, once
   *  all its parts arrived, quoting the id of `perMessageReceiptPart`; 'none'. */
  receipts: 'per-part' | 'per-message' | 'none'
  perMessageReceiptPart: 'first' | 'last'
  receiptDelayMs: number
  /** Final state per destination (E.164 digits without '+'); null = no receipt for it. */
  receiptState: (dest: string) => ReceiptStat | null
  /** Every part of one concatenated message gets the same message id. */
  sameIdForAllSegments: boolean
  /** Accept at most this many submit_sm in any rolling second (0 = no limit); beyond, answer
   *  with `throttleStatus`. */
  maxSubmitsPerSecond: number
  throttleStatus: number
  /** When it returns a status, that submit_sm gets a generic_nack with it (and no resp).
   *  `attempt` counts submits of the same (dest, concat ref, seq, payload) so far, from 1. */
  genericNack: ((s: CarrierSubmit, attempt: number) => number | null) | null
  /** The application hangs: enquire_link is still answered, submit_sm never is. */
  silentApplication: boolean
  /** What data_coding 0 means to this SMSC: how it writes MO text with DCS 0, and how it reads
   *  the DCS 0 submits it receives (messages(), receipt excerpts). */
  defaultAlphabet: 'gsm' | 'latin1' | 'ascii'
}

export const DEFAULT_QUIRKS: Readonly<CarrierQuirks> = {
  respIdFormat: 'decimal',
  receiptIdFormat: 'same',
  receiptTlvs: true,
  receiptSource: 'international',
  receipts: 'per-part',
  perMessageReceiptPart: 'last',
  receiptDelayMs: 0,
  receiptState: () => 'DELIVRD',
  sameIdForAllSegments: false,
  maxSubmitsPerSecond: 0,
  throttleStatus: ESME.RTHROTTLED,
  genericNack: null,
  silentApplication: false,
  defaultAlphabet: 'gsm',
}

export interface CarrierSubmit {
  /** The submit_sm's sequence_number. */
  seq: number
  sessionId: number
  sourceAddr: string
  sourceTon: number
  destAddr: string
  destTon: number
  dataCoding: number
  esmClass: number
  registeredDelivery: number
  shortMessage: Buffer
  /** User data without the UDH. */
  payload: Buffer
  concat: Concat | null
  /** The id as written in submit_sm_resp, when accepted. */
  messageId: string | null
  outcome: 'accepted' | 'throttled' | 'nacked' | 'unanswered' | 'refused'
  at: number
}

export interface SentReceipt {
  /** The id as quoted in the receipt. */
  id: string
  /** E.164 digits of the handset. */
  dest: string
  /** source_addr written in the receipt. */
  source: string
  stat: ReceiptStat
  at: number
}

export interface CarrierMo {
  from: string
  fromTon?: number
  to: string
  toTon?: number
  text: string
  dataCoding?: 0 | 8
  concat?: 'udh8' | 'udh16' | 'sar'
  /** Characters per part; the text in one part when not given. */
  split?: number
}

export interface CarrierMessage {
  dest: string
  text: string
  parts: number
}

export interface CarrierSmscOptions {
  systemId?: string
  password?: string
  /** 0 (the default) picks a free port. */
  port?: number
  /** Send our own enquire_link every this many ms on each bound session (off when unset). */
  enquireLinkMs?: number
  /** The number behind the first message id; the next ones count up from it. */
  firstMessageId?: number
  quirks?: Partial<CarrierQuirks>
}

/** Country code → trunk prefix, for receipts from a national number. */
const TRUNK_PREFIXES: ReadonlyArray<[code: string, trunk: string]> = [
  ['33', '0'],
  ['44', '0'],
  ['49', '0'],
  ['1', ''],
]

const TON_UNKNOWN = 0
const TON_INTERNATIONAL = 1
const TON_NATIONAL = 2
const NPI_ISDN = 1

export function formatId(n: number, format: IdFormat): string {
  switch (format) {
    case 'decimal':
      return String(n)
    case 'hex':
      return n.toString(16)
    case 'hex-padded':
      return n.toString(16).toUpperCase().padStart(10, '0')
    case 'decimal-padded':
      return String(n).padStart(20, '0')
  }
}

/** A handset (E.164 digits) written the way the quirk says, with its TON. */
export function handsetAddress(
  digits: string,
  style: CarrierQuirks['receiptSource'],
): { addr: string; ton: number } {
  switch (style) {
    case 'international':
      return { addr: digits, ton: TON_INTERNATIONAL }
    case 'plus':
      return { addr: `+${digits}`, ton: TON_INTERNATIONAL }
    case 'intl-00':
      return { addr: `00${digits}`, ton: TON_UNKNOWN }
    case 'national': {
      const entry = TRUNK_PREFIXES.find(([code]) => digits.startsWith(code))
      const addr = entry ? entry[1] + digits.slice(entry[0].length) : digits
      return { addr, ton: TON_NATIONAL }
    }
  }
}

/** The receipt text of SMPP 3.4 Appendix B, dates as YYMMDDhhmm in UTC. */
function receiptText(id: string, stat: ReceiptStat, submittedAt: number, excerpt: string): string {
  const date = (ms: number): string => new Date(ms).toISOString().replace(/\D/g, '').slice(2, 12)
  const err = stat === 'DELIVRD' || stat === 'EXPIRED' ? '000' : '001'
  return (
    `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} ` +
    `submit date:${date(submittedAt)} done date:${date(Date.now())} ` +
    `stat:${stat} err:${err} text:${excerpt}`
  )
}

const MESSAGE_STATE: Readonly<Record<ReceiptStat, number>> = {
  DELIVRD: 2,
  EXPIRED: 3,
  UNDELIV: 5,
  REJECTD: 8,
}

/**
 * User data as text: DCS 0 in the SMSC's default alphabet (GSM septets unless told otherwise),
 * 8 UCS-2, 3 Latin-1, 1 ASCII.
 */
export function decodeUserData(
  dataCoding: number,
  data: Buffer,
  defaultAlphabet: CarrierQuirks['defaultAlphabet'] = 'gsm',
): string {
  switch (dataCoding) {
    case 8:
      return Buffer.from(data).swap16().toString('utf16le')
    case 3:
      return data.toString('latin1')
    case 1:
      return data.toString('ascii')
    default:
      if (defaultAlphabet === 'gsm') return decodeGsm7(data)
      return data.toString(defaultAlphabet)
  }
}

function encodeMoText(text: string, dataCoding: 0 | 8, alphabet: CarrierQuirks['defaultAlphabet']) {
  if (dataCoding === 8) return Buffer.from(text, 'utf16le').swap16()
  if (alphabet === 'gsm') return encodeGsm7(text)
  return Buffer.from(text, alphabet === 'latin1' ? 'latin1' : 'ascii')
}

interface AcceptedPart {
  submit: CarrierSubmit
  /** The number behind its message id. */
  number: number
}

class CarrierSession {
  bound = false
  private nextSequence = 1
  private readonly waiting = new Map<number, { resolve: (s: number) => void; fail: () => void }>()
  private enquireTimer: NodeJS.Timeout | null = null

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
  ) {}

  get open(): boolean {
    return !this.socket.destroyed
  }

  send(commandId: number, status: number, sequence: number, body?: Buffer): void {
    if (this.open) this.socket.write(encodePdu(commandId, status, sequence, body))
  }

  /** Sends a request; resolves with the command_status of its response. */
  request(commandId: number, body: Buffer, timeoutMs: number): Promise<number> {
    const sequence = this.nextSequence++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(sequence)
        reject(new Error(`no response to PDU ${sequence} in ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(sequence, {
        resolve: (status) => {
          clearTimeout(timer)
          resolve(status)
        },
        fail: () => {
          clearTimeout(timer)
          reject(new Error('session closed before the response'))
        },
      })
      this.send(commandId, 0, sequence, body)
    })
  }

  answered(pdu: Pdu): void {
    this.waiting.get(pdu.sequence)?.resolve(pdu.status)
    this.waiting.delete(pdu.sequence)
  }

  startEnquireLinks(everyMs: number): void {
    this.enquireTimer = setInterval(() => {
      this.request(CMD.enquire_link, Buffer.alloc(0), everyMs).catch(() => undefined)
    }, everyMs)
  }

  closed(): void {
    if (this.enquireTimer) clearInterval(this.enquireTimer)
    for (const w of this.waiting.values()) w.fail()
    this.waiting.clear()
  }
}

export class CarrierSmsc extends EventEmitter {
  private quirkSet: CarrierQuirks
  private readonly server: net.Server
  private readonly live = new Set<CarrierSession>()
  private readonly submitLog: CarrierSubmit[] = []
  private readonly receiptLog: SentReceipt[] = []
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly acceptedAt: number[] = []
  private readonly attempts = new Map<string, number>()
  /** Concatenated messages being received: key → part seq → the accepted part. */
  private readonly inFlight = new Map<string, Map<number, AcceptedPart>>()
  /** Receipts waiting for a bound session. */
  private readonly undelivered: Array<{ body: Buffer }> = []
  private lastMo: Buffer[] = []
  private nextId: number
  private nextSessionId = 1
  private nextMoRef = 1
  private counts = { binds: 0, unbinds: 0, enquireLinks: 0, enquireLinkResponses: 0, sessions: 0 }
  port = 0

  private constructor(private readonly options: CarrierSmscOptions) {
    super()
    this.quirkSet = { ...DEFAULT_QUIRKS, ...options.quirks }
    this.nextId = options.firstMessageId ?? 4_000_000_000
    this.server = net.createServer((socket) => this.accept(socket))
  }

  static async start(options: CarrierSmscOptions = {}): Promise<CarrierSmsc> {
    const smsc = new CarrierSmsc(options)
    await new Promise<void>((resolve, reject) => {
      smsc.server.once('error', reject)
      smsc.server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
    })
    smsc.port = (smsc.server.address() as net.AddressInfo).port
    return smsc
  }

  get quirks(): Readonly<CarrierQuirks> {
    return this.quirkSet
  }

  setQuirks(partial: Partial<CarrierQuirks>): void {
    this.quirkSet = { ...this.quirkSet, ...partial }
  }

  get submits(): readonly CarrierSubmit[] {
    return this.submitLog
  }

  get receiptsSent(): readonly SentReceipt[] {
    return this.receiptLog
  }

  get binds(): number {
    return this.counts.binds
  }

  get unbinds(): number {
    return this.counts.unbinds
  }

  get enquireLinks(): number {
    return this.counts.enquireLinks
  }

  /** Answers to our own enquire_link. */
  get enquireLinkResponses(): number {
    return this.counts.enquireLinkResponses
  }

  /** Connections accepted so far. */
  get sessions(): number {
    return this.counts.sessions
  }

  get openSessions(): number {
    return [...this.live].filter((s) => s.open).length
  }

  accepted(): CarrierSubmit[] {
    return this.submitLog.filter((s) => s.outcome === 'accepted')
  }

  /**
   * Accepted submits that repeat an earlier accepted one: same destination, same place in the
   * same-sized message (or none) and same user data. The UDH reference is left out, since a
   * client may renumber a message it sends again.
   */
  duplicates(): number {
    const seen = new Set<string>()
    let count = 0
    for (const s of this.accepted()) {
      const place = s.concat ? `${s.concat.total}/${s.concat.seq}` : '-'
      const key = `${s.destAddr}|${place}|${s.payload.toString('hex')}`
      if (seen.has(key)) count++
      seen.add(key)
    }
    return count
  }

  /**
   * Complete messages received, parts joined in order and decoded as this SMSC reads them (DCS 0
   * in its default alphabet), first submit first.
   */
  messages(): CarrierMessage[] {
    const alphabet = this.quirkSet.defaultAlphabet
    const out: CarrierMessage[] = []
    const groups = new Map<
      string,
      { dest: string; total: number; parts: Map<number, CarrierSubmit> }
    >()
    for (const s of this.accepted()) {
      if (!s.concat) {
        const text = decodeUserData(s.dataCoding, s.payload, alphabet)
        out.push({ dest: s.destAddr, text, parts: 1 })
        continue
      }
      const key = `${s.destAddr}|${s.concat.ref}|${s.concat.total}`
      const group = groups.get(key) ?? { dest: s.destAddr, total: s.concat.total, parts: new Map() }
      groups.set(key, group)
      if (!group.parts.has(s.concat.seq)) group.parts.set(s.concat.seq, s)
      if (group.parts.size !== group.total) continue
      const ordered = [...group.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p)
      const data = Buffer.concat(ordered.map((p) => p.payload))
      out.push({
        dest: group.dest,
        text: decodeUserData(ordered[0].dataCoding, data, alphabet),
        parts: group.total,
      })
      groups.delete(key)
    }
    return out
  }

  /** Resolves once `check` holds, tested after every bind, submit and receipt. */
  until(check: () => boolean, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        this.off('activity', test)
      }
      const test = (): void => {
        if (!check()) return
        done()
        resolve()
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`carrier SMSC: condition not met in ${timeoutMs} ms`))
      }, timeoutMs)
      this.on('activity', test)
      test()
    })
  }

  /**
   * Sends an MO message to the first bound session, as one part or split into `split`
   * characters per part, and resolves with the deliver_sm_resp status of each part.
   */
  sendMo(mo: CarrierMo, options: { timeoutMs?: number } = {}): Promise<number[]> {
    const dataCoding = mo.dataCoding ?? 0
    const chars = Array.from(mo.text)
    const size = mo.split ?? Math.max(chars.length, 1)
    const chunks: string[] = []
    for (let at = 0; at < Math.max(chars.length, 1); at += size)
      chunks.push(chars.slice(at, at + size).join(''))
    const ref = this.nextMoRef++ % 0x10000 || this.nextMoRef++
    const style = chunks.length > 1 ? (mo.concat ?? 'udh8') : null
    this.lastMo = chunks.map((chunk, i) => {
      const data = encodeMoText(chunk, dataCoding, this.quirkSet.defaultAlphabet)
      const tlvs = new Map<number, Buffer>()
      let udh = Buffer.alloc(0)
      if (style === 'udh8') udh = Buffer.from([5, 0x00, 3, ref & 0xff, chunks.length, i + 1])
      if (style === 'udh16')
        udh = Buffer.from([6, 0x08, 4, ref >> 8, ref & 0xff, chunks.length, i + 1])
      if (style === 'sar') {
        const refBytes = Buffer.alloc(2)
        refBytes.writeUInt16BE(ref)
        tlvs.set(TLV.sar_msg_ref_num, refBytes)
        tlvs.set(TLV.sar_total_segments, Buffer.from([chunks.length]))
        tlvs.set(TLV.sar_segment_seqnum, Buffer.from([i + 1]))
      }
      return writeShortMessage({
        sourceAddr: mo.from,
        sourceTon: mo.fromTon ?? TON_INTERNATIONAL,
        sourceNpi: NPI_ISDN,
        destAddr: mo.to,
        destTon: mo.toTon ?? TON_INTERNATIONAL,
        destNpi: NPI_ISDN,
        esmClass: udh.length ? ESM_UDHI : 0,
        dataCoding,
        shortMessage: Buffer.concat([udh, data]),
        tlvs,
      })
    })
    return this.deliverAll(this.lastMo, options.timeoutMs ?? 5000)
  }

  /** Sends the last MO again, octet for octet, with new sequence numbers (a lost ack). */
  redeliverLastMo(options: { timeoutMs?: number } = {}): Promise<number[]> {
    return this.deliverAll(this.lastMo, options.timeoutMs ?? 5000)
  }

  /** The exact deliver_sm bodies of the last MO, for tests that compare octets. */
  get lastMoBodies(): readonly Buffer[] {
    return this.lastMo
  }

  dropSessions(): void {
    for (const session of this.live) session.socket.destroy()
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.dropSessions()
    await closed
  }

  private deliverAll(bodies: Buffer[], timeoutMs: number): Promise<number[]> {
    const session = this.boundSession()
    if (!session) return Promise.reject(new Error('carrier SMSC: no bound session for the MO'))
    return Promise.all(bodies.map((body) => session.request(CMD.deliver_sm, body, timeoutMs)))
  }

  private boundSession(preferred?: CarrierSession): CarrierSession | undefined {
    if (preferred?.bound && preferred.open) return preferred
    return [...this.live].find((s) => s.bound && s.open)
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true)
    const session = new CarrierSession(this.nextSessionId++, socket)
    this.counts.sessions++
    this.live.add(session)
    const reader = new PduReader()
    socket.on('data', (chunk) => {
      let pdus: Pdu[]
      try {
        pdus = reader.push(chunk)
      } catch {
        socket.destroy()
        return
      }
      for (const pdu of pdus) this.handle(session, pdu)
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      session.closed()
      this.live.delete(session)
    })
  }

  private handle(session: CarrierSession, pdu: Pdu): void {
    switch (pdu.commandId) {
      case CMD.bind_transceiver:
        return this.bind(session, pdu)
      case CMD.unbind:
        this.counts.unbinds++
        session.send(CMD.unbind_resp, ESME.ROK, pdu.sequence)
        session.bound = false
        session.socket.end()
        return
      case CMD.enquire_link:
        this.counts.enquireLinks++
        return session.send(CMD.enquire_link_resp, ESME.ROK, pdu.sequence)
      case CMD.submit_sm:
        return this.submit(session, pdu)
      case CMD.enquire_link_resp:
        this.counts.enquireLinkResponses++
        this.emit('activity')
        return session.answered(pdu)
      case CMD.deliver_sm_resp:
      case CMD.unbind_resp:
      case CMD.generic_nack:
        return session.answered(pdu)
      default:
        session.send(CMD.generic_nack, ESME.RINVCMDID, pdu.sequence)
    }
  }

  private bind(session: CarrierSession, pdu: Pdu): void {
    const reply = (status: number): void =>
      session.send(
        CMD.bind_transceiver_resp,
        status,
        pdu.sequence,
        new BodyWriter().cstring('carrier').build(),
      )
    let body
    try {
      body = readBind(pdu.body)
    } catch {
      return session.send(CMD.generic_nack, ESME.RINVCMDLEN, pdu.sequence)
    }
    if (session.bound) return reply(ESME.RALYBND)
    if (body.systemId !== (this.options.systemId ?? 'mail2sms')) return reply(ESME.RINVSYSID)
    if (body.password !== (this.options.password ?? 'secret')) return reply(ESME.RINVPASWD)
    session.bound = true
    this.counts.binds++
    reply(ESME.ROK)
    if (this.options.enquireLinkMs) session.startEnquireLinks(this.options.enquireLinkMs)
    for (const pending of this.undelivered.splice(0)) this.deliverReceipt(session, pending.body)
    this.emit('activity')
  }

  private submit(session: CarrierSession, pdu: Pdu): void {
    let fields
    try {
      fields = readShortMessage(pdu.body)
    } catch {
      return session.send(CMD.generic_nack, ESME.RINVCMDLEN, pdu.sequence)
    }
    const { payload, concat } = readUserData(fields)
    const s: CarrierSubmit = {
      seq: pdu.sequence,
      sessionId: session.id,
      sourceAddr: fields.sourceAddr,
      sourceTon: fields.sourceTon,
      destAddr: fields.destAddr.replace(/^\+/, ''),
      destTon: fields.destTon,
      dataCoding: fields.dataCoding,
      esmClass: fields.esmClass,
      registeredDelivery: fields.registeredDelivery,
      shortMessage: fields.shortMessage,
      payload,
      concat,
      messageId: null,
      outcome: 'unanswered',
      at: Date.now(),
    }
    this.submitLog.push(s)
    try {
      this.answerSubmit(session, pdu.sequence, s)
    } finally {
      this.emit('activity')
    }
  }

  private answerSubmit(session: CarrierSession, sequence: number, s: CarrierSubmit): void {
    const q = this.quirkSet
    const resp = (status: number, body?: Buffer): void =>
      session.send(CMD.submit_sm_resp, status, sequence, body)
    if (!session.bound) {
      s.outcome = 'refused'
      return resp(ESME.RINVBNDSTS)
    }
    if (q.silentApplication) return
    const attemptKey = `${s.destAddr}|${s.concat?.ref ?? '-'}|${s.concat?.seq ?? '-'}|${s.payload.toString('hex')}`
    const attempt = (this.attempts.get(attemptKey) ?? 0) + 1
    this.attempts.set(attemptKey, attempt)
    const nack = q.genericNack?.(s, attempt) ?? null
    if (nack !== null) {
      s.outcome = 'nacked'
      return session.send(CMD.generic_nack, nack, sequence)
    }
    const now = Date.now()
    while (this.acceptedAt.length && this.acceptedAt[0] <= now - 1000) this.acceptedAt.shift()
    if (q.maxSubmitsPerSecond > 0 && this.acceptedAt.length >= q.maxSubmitsPerSecond) {
      s.outcome = 'throttled'
      return resp(q.throttleStatus)
    }
    this.acceptedAt.push(now)
    const number = this.messageNumberFor(s)
    s.messageId = formatId(number, q.respIdFormat)
    s.outcome = 'accepted'
    resp(ESME.ROK, new BodyWriter().cstring(s.messageId).build())
    this.planReceipt(s, number)
  }

  /** A new number, or with sameIdForAllSegments the one the message's first part got. */
  private messageNumberFor(s: CarrierSubmit): number {
    if (!this.quirkSet.sameIdForAllSegments || !s.concat) return this.nextId++
    const sibling = this.inFlight.get(this.messageKey(s))?.values().next().value
    return sibling ? sibling.number : this.nextId++
  }

  private messageKey(s: CarrierSubmit): string {
    return `${s.destAddr}|${s.concat?.ref}|${s.concat?.total}`
  }

  private planReceipt(s: CarrierSubmit, number: number): void {
    const q = this.quirkSet
    if (s.concat) {
      // Parts of one message are tracked whatever the receipt style, for sameIdForAllSegments.
      const key = this.messageKey(s)
      const parts = this.inFlight.get(key) ?? new Map<number, AcceptedPart>()
      this.inFlight.set(key, parts)
      if (!parts.has(s.concat.seq)) parts.set(s.concat.seq, { submit: s, number })
      if (parts.size === s.concat.total) this.inFlight.delete(key)
      if (q.receipts === 'per-message') {
        if (parts.size !== s.concat.total) return
        const quoted = parts.get(q.perMessageReceiptPart === 'first' ? 1 : s.concat.total)
        return this.scheduleReceipt(quoted?.submit ?? s, quoted?.number ?? number)
      }
    }
    if (q.receipts !== 'none') this.scheduleReceipt(s, number)
  }

  private scheduleReceipt(s: CarrierSubmit, number: number): void {
    const q = this.quirkSet
    const stat = q.receiptState(s.destAddr)
    // registered_delivery bits 1..0: 1 = receipt on any final state, 2 = on failure only.
    const wanted = s.registeredDelivery & 0x03
    if (stat === null || wanted === 0 || (wanted === 2 && stat === 'DELIVRD')) return
    const id =
      q.receiptIdFormat === 'same' ? (s.messageId as string) : formatId(number, q.receiptIdFormat)
    const excerpt = decodeUserData(s.dataCoding, s.payload, q.defaultAlphabet)
    const receipt = this.receiptFor({ id, dest: s.destAddr, stat, submittedAt: s.at, excerpt }, s)
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      const session = [...this.live].find((l) => l.id === s.sessionId)
      this.dispatchReceipt(receipt, session)
    }, q.receiptDelayMs)
    this.timers.add(timer)
  }

  /**
   * Sends a receipt now for any id, as if for a message to `dest` (E.164 digits), written with
   * the receipt quirks in force: a receipt for a message this SMSC never took, say, or one a
   * carrier sends twice.
   */
  sendReceipt(receipt: { id: string; dest: string; stat: ReceiptStat }): void {
    const now = Date.now()
    this.dispatchReceipt(this.receiptFor({ ...receipt, submittedAt: now, excerpt: '' }, null))
  }

  /**
   * Unbinds every bound session as an SMSC going down for maintenance does: an unbind the ESME
   * should answer, then the socket is closed. Resolves once every such socket has closed.
   */
  async unbindSessions(timeoutMs = 2000): Promise<void> {
    const bound = [...this.live].filter((s) => s.bound && s.open)
    await Promise.all(
      bound.map(async (session) => {
        try {
          await session.request(CMD.unbind, Buffer.alloc(0), timeoutMs)
        } catch {
          // Unanswered or cut first: the session is closed all the same.
        }
        session.bound = false
        if (session.socket.destroyed) return
        const closed = new Promise((resolve) => session.socket.once('close', resolve))
        const cut = setTimeout(() => session.socket.destroy(), timeoutMs)
        session.socket.end()
        await closed
        clearTimeout(cut)
      }),
    )
  }

  private receiptFor(
    r: { id: string; dest: string; stat: ReceiptStat; submittedAt: number; excerpt: string },
    s: CarrierSubmit | null,
  ): { body: Buffer; log: Omit<SentReceipt, 'at'> } {
    const q = this.quirkSet
    const handset = handsetAddress(r.dest, q.receiptSource)
    const tlvs = new Map<number, Buffer>()
    if (q.receiptTlvs) {
      tlvs.set(TLV.receipted_message_id, Buffer.from(`${r.id}\0`, 'latin1'))
      tlvs.set(TLV.message_state, Buffer.from([MESSAGE_STATE[r.stat]]))
    }
    const excerpt = r.excerpt.slice(0, 20).replace(/[^A-Za-z0-9 .,:]/g, '.')
    const body = writeShortMessage({
      sourceAddr: handset.addr,
      sourceTon: handset.ton,
      sourceNpi: NPI_ISDN,
      destAddr: s?.sourceAddr ?? '',
      destTon: s?.sourceTon ?? TON_UNKNOWN,
      esmClass: ESM_DELIVERY_RECEIPT,
      dataCoding: 0,
      shortMessage: Buffer.from(receiptText(r.id, r.stat, r.submittedAt, excerpt), 'latin1'),
      tlvs,
    })
    return { body, log: { id: r.id, dest: r.dest, source: handset.addr, stat: r.stat } }
  }

  /** Delivers a receipt on `preferred` or any bound session, or keeps it for the next bind. */
  private dispatchReceipt(
    receipt: { body: Buffer; log: Omit<SentReceipt, 'at'> },
    preferred?: CarrierSession,
  ): void {
    this.receiptLog.push({ ...receipt.log, at: Date.now() })
    const session = this.boundSession(preferred)
    if (session) this.deliverReceipt(session, receipt.body)
    else this.undelivered.push({ body: receipt.body })
    this.emit('activity')
  }

  private deliverReceipt(session: CarrierSession, body: Buffer): void {
    session.request(CMD.deliver_sm, body, 30_000).catch(() => undefined)
  }
}
