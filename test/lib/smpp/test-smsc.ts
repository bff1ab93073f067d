/**
 * A small SMSC for the client tests, on smpp@0.5.1's server and loopback.
 *
 * It reads submit_sm from the octets on the wire with its own parser (the package would decode
 * short_message on the way), so the tests check exactly what a carrier would receive. Each test
 * decides how binds and submits are answered.
 */

import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { PDU, createServer, type PduFields, type Server, type Session } from 'smpp'

export interface ReceivedBind {
  systemId: string
  password: string
  interfaceVersion: number
}

export interface ReceivedSubmit {
  sequence: number
  sourceTon: number
  sourceNpi: number
  source: string
  destTon: number
  destNpi: number
  destination: string
  esmClass: number
  registeredDelivery: number
  dataCoding: number
  shortMessage: Buffer
  tlvs: Map<number, Buffer>
}

/** Answers a held submit: status 0 gives it the next message id. */
export type Reply = (status?: number) => void

export interface TestSmscEvent {
  command: string
  sequence: number
}

function cString(pdu: Buffer, offset: number): [string, number] {
  const nul = pdu.indexOf(0, offset)
  if (nul < 0) throw new Error('C-string without NUL')
  return [pdu.toString('latin1', offset, nul), nul + 1]
}

/** SMPP 3.4 §4.4.1, read octet by octet. */
export function parseSubmitSm(pdu: Buffer): ReceivedSubmit {
  let offset = 16
  let text: string
  ;[, offset] = cString(pdu, offset) // service_type
  const sourceTon = pdu[offset++]
  const sourceNpi = pdu[offset++]
  ;[text, offset] = cString(pdu, offset)
  const source = text
  const destTon = pdu[offset++]
  const destNpi = pdu[offset++]
  ;[text, offset] = cString(pdu, offset)
  const destination = text
  const esmClass = pdu[offset++]
  offset += 2 // protocol_id, priority_flag
  ;[, offset] = cString(pdu, offset) // schedule_delivery_time
  ;[, offset] = cString(pdu, offset) // validity_period
  const registeredDelivery = pdu[offset++]
  offset++ // replace_if_present_flag
  const dataCoding = pdu[offset++]
  offset++ // sm_default_msg_id
  const length = pdu[offset++]
  const shortMessage = Buffer.from(pdu.subarray(offset, offset + length))
  offset += length
  const tlvs = new Map<number, Buffer>()
  while (offset + 4 <= pdu.length) {
    const tag = pdu.readUInt16BE(offset)
    const size = pdu.readUInt16BE(offset + 2)
    tlvs.set(tag, Buffer.from(pdu.subarray(offset + 4, offset + 4 + size)))
    offset += 4 + size
  }
  return {
    sequence: pdu.readUInt32BE(12),
    sourceTon,
    sourceNpi,
    source,
    destTon,
    destNpi,
    destination,
    esmClass,
    registeredDelivery,
    dataCoding,
    shortMessage,
    tlvs,
  }
}

export class TestSmsc {
  readonly binds: ReceivedBind[] = []
  readonly submits: ReceivedSubmit[] = []
  /** Every request the SMSC received, in order, across sessions. */
  readonly events: TestSmscEvent[] = []
  readonly deliverResponses: PDU[] = []
  /** The message_id given to each accepted submit_sm, in answer order. */
  readonly acceptedIds: string[] = []
  /** Status for each bind attempt (1-based); ESME_ROK by default. */
  bindStatus: (attempt: number) => number = () => 0
  /** How to answer each submit_sm; at once with the next id by default. */
  onSubmit: (submit: ReceivedSubmit, reply: Reply) => void = (_submit, reply) => reply()
  /** Whether to answer the client's enquire_link. */
  answerEnquireLink = true
  outstanding = 0
  maxOutstanding = 0
  private nextId = 0x1a2b
  private readonly waiters: Array<{ command: string; resolve: () => void }> = []
  private readonly closeWaiters: Array<() => void> = []
  private readonly server: Server
  private readonly live = new Set<Session>()
  private bound: Session | null = null

  private constructor() {
    this.server = createServer((session) => this.accept(session))
  }

  static async start(): Promise<TestSmsc> {
    const smsc = new TestSmsc()
    smsc.server.listen(0, '127.0.0.1')
    await once(smsc.server, 'listening')
    return smsc
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** Sends a request to the bound client and resolves with its response. */
  request(command: string, fields: PduFields = {}): Promise<PDU> {
    const session = this.bound
    if (session === null) return Promise.reject(new Error('no bound session'))
    return new Promise((resolve) => session.send(new PDU(command, fields), resolve))
  }

  /** Resolves when the SMSC next receives a request of this command. */
  nextRequest(command: string): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ command, resolve }))
  }

  /** Resolves when a client connection next closes. */
  nextClose(): Promise<void> {
    return new Promise((resolve) => this.closeWaiters.push(resolve))
  }

  /** Destroys every client connection at once, as a crashing SMSC would. */
  dropConnections(): void {
    for (const session of this.live) session.destroy()
  }

  async close(): Promise<void> {
    this.dropConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(session: Session): void {
    this.live.add(session)
    session.socket.setNoDelay(true)
    let lastRead: Buffer | null = null
    const read = session.socket.read.bind(session.socket)
    // The same capture the client uses, done here independently: the last chunk read is the body
    // of the PDU about to be emitted.
    session.socket.read = (size?: number): Buffer | null => {
      const chunk = read(size) as Buffer | null
      if (chunk !== null) lastRead = chunk
      return chunk
    }
    session.on('error', () => session.destroy())
    session.socket.on('close', () => {
      this.live.delete(session)
      if (this.bound === session) this.bound = null
      this.outstanding = 0
      for (const resolve of this.closeWaiters.splice(0)) resolve()
    })
    session.on('pdu', (pdu: PDU) => {
      if (pdu.isResponse()) {
        if (pdu.command === 'deliver_sm_resp') this.deliverResponses.push(pdu)
        return
      }
      this.events.push({ command: pdu.command, sequence: pdu.sequence_number })
      const head = Buffer.alloc(4)
      head.writeUInt32BE(pdu.command_length, 0)
      this.onRequest(session, pdu, Buffer.concat([head, lastRead ?? Buffer.alloc(0)]))
      for (const waiter of this.waiters.filter((w) => w.command === pdu.command)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    })
  }

  private onRequest(session: Session, pdu: PDU, raw: Buffer): void {
    switch (pdu.command) {
      case 'bind_transceiver': {
        this.binds.push({
          systemId: String(pdu.system_id),
          password: String(pdu.password),
          interfaceVersion: Number(pdu.interface_version),
        })
        const status = this.bindStatus(this.binds.length)
        if (status === 0) this.bound = session
        session.send(
          status === 0
            ? pdu.response({ system_id: 'TESTSMSC' })
            : pdu.response({ command_status: status }),
        )
        return
      }
      case 'submit_sm': {
        const submit = parseSubmitSm(raw)
        this.submits.push(submit)
        this.outstanding++
        this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding)
        let answered = false
        this.onSubmit(submit, (status = 0) => {
          if (answered || session.socket.destroyed) return
          answered = true
          this.outstanding--
          const id = (this.nextId++).toString(16).toUpperCase().padStart(10, '0')
          if (status === 0) this.acceptedIds.push(id)
          session.send(
            status === 0
              ? pdu.response({ message_id: id })
              : pdu.response({ command_status: status }),
          )
        })
        return
      }
      case 'enquire_link':
        if (this.answerEnquireLink) session.send(pdu.response())
        return
      case 'unbind':
        session.send(pdu.response())
        return
    }
  }
}
