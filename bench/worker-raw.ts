/**
 * The baseline of `bench:worker`: the `smpp` package's own client with nothing around it (no
 * database, no request table, no timers), sending the same SMS to the same simulator with the
 * same window. It is about as fast as this package can go on this machine.
 */
import { connect, type PDU, type Session } from 'smpp'
import { encodeGsm7 } from '../lib/sms/gsm7'

export interface RawOptions {
  port: number
  systemId: string
  password: string
  window: number
  /** E.164 digits without '+', one SMS each, in order. */
  destinations: string[]
  text: (i: number) => string
  sourceName: string
  timeoutMs: number
}

export interface RawResult {
  messages: number
  /** From the bound session to the last submit_sm_resp. */
  sentSeconds: number
  /** From the bound session to the last receipt, answered with deliver_sm_resp. */
  deliveredSeconds: number
  accepted: number
  refused: number
  receipts: number
}

function bind(session: Session, systemId: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    session.once('error', reject)
    session.on('connect', () => {
      session.socket.setNoDelay(true)
      session.bind_transceiver({ system_id: systemId, password }, (pdu: PDU) => {
        session.off('error', reject)
        if (pdu.command_status === 0) resolve()
        else reject(new Error(`bind_transceiver refused: status ${pdu.command_status}`))
      })
    })
  })
}

export async function runRawClient(o: RawOptions): Promise<RawResult> {
  const session = connect({ host: '127.0.0.1', port: o.port })
  await bind(session, o.systemId, o.password)
  const total = o.destinations.length
  const r: RawResult = {
    messages: total,
    sentSeconds: 0,
    deliveredSeconds: 0,
    accepted: 0,
    refused: 0,
    receipts: 0,
  }
  const start = process.hrtime.bigint()
  const seconds = (): number => Number(process.hrtime.bigint() - start) / 1e9
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`raw client: not done after ${o.timeoutMs} ms`)),
        o.timeoutMs,
      )
      let next = 0
      let outstanding = 0
      const finishIfDone = (): void => {
        if (r.accepted + r.refused < total || r.receipts < r.accepted) return
        r.deliveredSeconds = seconds()
        clearTimeout(timer)
        resolve()
      }
      const pump = (): void => {
        while (outstanding < o.window && next < total) {
          const i = next++
          outstanding++
          session.submit_sm(
            {
              source_addr_ton: 5,
              source_addr_npi: 0,
              source_addr: o.sourceName,
              dest_addr_ton: 1,
              dest_addr_npi: 1,
              destination_addr: o.destinations[i],
              registered_delivery: 1,
              data_coding: 0,
              esm_class: 0,
              short_message: encodeGsm7(o.text(i)),
            },
            (resp: PDU) => {
              outstanding--
              if (resp.command_status === 0) r.accepted++
              else r.refused++
              if (r.accepted + r.refused === total) r.sentSeconds = seconds()
              pump()
              finishIfDone()
            },
          )
        }
      }
      session.on('deliver_sm', (pdu: PDU) => {
        session.send(pdu.response())
        r.receipts++
        finishIfDone()
      })
      session.on('close', () => reject(new Error('raw client: the SMSC closed the session')))
      pump()
    })
  } finally {
    session.removeAllListeners('close')
    session.destroy()
  }
  return r
}
