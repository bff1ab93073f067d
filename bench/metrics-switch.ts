import { httpGet } from '../test/support/ops'

/**
 * The benches run with metrics on, as shipped, and scrape them every second (a Prometheus
 * scraping every 15 s costs less); MAIL2SMS_BENCH_METRICS=off runs them without, to compare.
 */
export function benchMetricsOn(): boolean {
  return process.env.MAIL2SMS_BENCH_METRICS !== 'off'
}

export const SCRAPE_EVERY_MS = 1000

/** Scrapes an ops listener's /metrics every second until stopped. */
export function scrapeEverySecond(port: number): () => void {
  const timer = setInterval(
    () => void httpGet(port, '/metrics').catch(() => undefined),
    SCRAPE_EVERY_MS,
  )
  timer.unref()
  return () => clearInterval(timer)
}
