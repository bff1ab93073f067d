import { spawn, spawnSync } from 'node:child_process'
import path from 'node:path'
import { createInterface } from 'node:readline'

/**
 * Runs net-smpp-smsc.pl, an SMSC written with Debian's Net::SMPP, and collects the JSON lines it
 * prints: an implementation independent of the `smpp` package, for tests of our client.
 */

const SCRIPT = path.join(__dirname, 'net-smpp-smsc.pl')
const INSTALL_HINT = 'apt-get install libnet-smpp-perl'

/** One line of the script's log. */
export interface NetSmppEvent {
  event: 'bind' | 'submit' | 'receipt' | 'deliver_resp' | 'unbind'
  [field: string]: unknown
}

export interface NetSmppSubmit extends NetSmppEvent {
  event: 'submit'
  /** Decimal message id, as given in submit_sm_resp. */
  id: string
  source_addr: string
  source_addr_ton: number
  destination_addr: string
  data_coding: number
  esm_class: number
  registered_delivery: number
  short_message_hex: string
  message_payload_hex?: string
}

export interface NetSmppSmsc {
  port: number
  /** Every logged event, in order. */
  readonly events: NetSmppEvent[]
  /** The submit events, in order. */
  readonly submits: NetSmppSubmit[]
  /** Resolves with the first event, logged or to come, that `matches`. */
  waitFor(matches: (event: NetSmppEvent) => boolean): Promise<NetSmppEvent>
  close(): Promise<void>
}

/** Throws, saying what to install, when perl or Net::SMPP is missing. */
export function assertNetSmppAvailable(): void {
  const probe = spawnSync('perl', ['-MNet::SMPP', '-MJSON::PP', '-e1'], { encoding: 'utf8' })
  if (probe.error) {
    throw new Error(`perl is not available (${probe.error.message}): ${INSTALL_HINT}`)
  }
  if (probe.status !== 0) {
    throw new Error(`Net::SMPP is not installed: ${INSTALL_HINT}\n${probe.stderr.trim()}`)
  }
}

export async function startNetSmppSmsc(options: {
  systemId: string
  password: string
  port?: number
}): Promise<NetSmppSmsc> {
  assertNetSmppAvailable()
  const args = ['--system-id', options.systemId, '--password', options.password]
  // stdin stays open as a lifeline: the script exits when it closes, even if this process dies.
  const child = spawn('perl', [SCRIPT, ...args, '--port', String(options.port ?? 0)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const events: NetSmppEvent[] = []
  const submits: NetSmppSubmit[] = []
  const waiters = new Set<(event: NetSmppEvent) => void>()

  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    exited.then(() => reject(new Error(`net-smpp-smsc.pl exited before listening: ${stderr}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      const listening = /^LISTENING (\d+)$/.exec(line)
      if (listening) return resolve(Number(listening[1]))
      const event = JSON.parse(line) as NetSmppEvent
      events.push(event)
      if (event.event === 'submit') submits.push(event as NetSmppSubmit)
      for (const waiter of waiters) waiter(event)
    })
  })

  return {
    port,
    events,
    submits,
    waitFor: (matches) => {
      const logged = events.find(matches)
      if (logged) return Promise.resolve(logged)
      return new Promise((resolve) => {
        const waiter = (event: NetSmppEvent): void => {
          if (!matches(event)) return
          waiters.delete(waiter)
          resolve(event)
        }
        waiters.add(waiter)
      })
    },
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
