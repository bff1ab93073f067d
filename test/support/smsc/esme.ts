import { EventEmitter } from 'node:events'
import { connect, PDU, type PduFields, type Session } from 'smpp'
import { captureRawPdus, parseShortMessagePdu, type ShortMessagePdu } from './pdu'

/**
 * A bare ESME over the raw `smpp` client, for tests of the SMSCs themselves: requests become
 * promises that fail when the connection closes, deliver_sm are kept with their octets, and
 * enquire_link is answered.
 */
export interface TestEsme {
  session: Session
  /** Every deliver_sm received, read from its octets. */
  readonly delivers: ShortMessagePdu[]
  readonly closed: Promise<void>
  isClosed(): boolean
  request(command: string, fields?: PduFields): Promise<PDU>
  bind(
    kind: 'transceiver' | 'transmitter' | 'receiver',
    systemId: string,
    password: string,
  ): Promise<PDU>
  untilDelivers(count: number): Promise<void>
  /** Ends the socket without unbinding, and waits for it to close. */
  close(): Promise<void>
}

export interface TestEsmeOptions {
  /** Answer deliver_sm with deliver_sm_resp (default true). */
  answerDelivers?: boolean
}

export async function connectEsme(port: number, options: TestEsmeOptions = {}): Promise<TestEsme> {
  const session = connect({ host: '127.0.0.1', port })
  const events = new EventEmitter()
  const delivers: ShortMessagePdu[] = []
  const pending = new Set<(error: Error) => void>()
  let isClosed = false
  captureRawPdus(session, (pdu, raw) => {
    if (pdu.command === 'deliver_sm') {
      delivers.push(parseShortMessagePdu(raw))
      if (options.answerDelivers ?? true) session.send(pdu.response({ message_id: '' }))
      events.emit('deliver')
    } else if (pdu.command === 'enquire_link') {
      session.send(pdu.response())
    }
  })
  const closed = new Promise<void>((resolve) => {
    session.on('close', () => {
      isClosed = true
      for (const reject of pending) reject(new Error('connection closed before the response'))
      pending.clear()
      events.emit('deliver')
      resolve()
    })
  })
  session.on('error', () => session.destroy())
  await new Promise<void>((resolve, reject) => {
    session.socket.once('connect', () => {
      session.socket.setNoDelay(true)
      resolve()
    })
    session.socket.once('error', reject)
  })

  const request = (command: string, fields: PduFields = {}): Promise<PDU> =>
    new Promise((resolve, reject) => {
      if (isClosed) return reject(new Error('connection closed'))
      const fail = (error: Error): void => reject(error)
      pending.add(fail)
      session.send(new PDU(command, fields), (response) => {
        pending.delete(fail)
        resolve(response)
      })
    })

  return {
    session,
    delivers,
    closed,
    isClosed: () => isClosed,
    request,
    bind: (kind, systemId, password) => request(`bind_${kind}`, { system_id: systemId, password }),
    untilDelivers: (count) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (delivers.length >= count) resolve()
          else if (isClosed) reject(new Error(`closed after ${delivers.length} deliver_sm`))
          else return
          events.off('deliver', check)
        }
        events.on('deliver', check)
        check()
      }),
    close: async () => {
      session.close()
      await closed
    },
  }
}
