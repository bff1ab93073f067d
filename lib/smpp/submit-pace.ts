/**
 * The pace of submit_sm: by default an AdaptiveRate that learns the carrier's rate from its
 * throttling answers, logged as episodes rather than one line per answer.
 */

import { AdaptiveRate, type AdaptiveRateEvent } from './adaptive-rate'
import type { SmppLogger } from './connection'

/** Decides when the next submit_sm may leave, and hears how the SMSC took the last ones. */
export interface SubmitPace {
  /** 0 to send now; else the milliseconds to wait. Takes the slot when it returns 0. */
  take(): number
  accepted(): void
  /** The SMSC answered ESME_RTHROTTLED or ESME_RMSGQFUL. */
  throttled(status: number): void
  /** Called every second while the client runs: time-driven changes with nothing being sent. */
  tick?(): void
}

export interface PaceSettings {
  /** Most submit_sm per second; 0 or absent for no limit. */
  throughputPerSecond?: number
  /** Learn the carrier's rate under throughputPerSecond (default true). */
  adaptiveRate?: boolean
}

export function adaptivePace(settings: PaceSettings, logger: SmppLogger): SubmitPace {
  return new AdaptiveRate({
    ceiling: settings.throughputPerSecond ?? 0,
    enabled: settings.adaptiveRate ?? true,
    onEvent: (event) => logThrottling(logger, event),
  })
}

/**
 * Calls pace.tick() every second, so that the end of a throttling episode is noticed while
 * nothing is being sent. Returns the function that stops it; a pace without tick needs none.
 */
export function tickEverySecond(pace: SubmitPace): () => void {
  if (!pace.tick) return () => undefined
  const timer = setInterval(() => pace.tick?.(), 1000)
  timer.unref()
  return () => clearInterval(timer)
}

/** One line when the carrier starts pushing back and one when it has stopped, not one per answer. */
function logThrottling(logger: SmppLogger, event: AdaptiveRateEvent): void {
  const rate = event.rate === null ? 'unlimited' : `${Math.round(event.rate * 10) / 10}/s`
  if (event.type === 'throttling-started') {
    logger.warn(`smpp throttling started: the SMSC asks us to slow down rate=${rate}`)
  } else {
    logger.info(
      `smpp throttling ended answers=${event.answers} duration_ms=${Math.round(event.durationMs)} rate=${rate}`,
    )
  }
}
