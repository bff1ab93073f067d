'use strict'
// Loaded into the Haraka under `npm run bench:mx-memory` through NODE_OPTIONS=--require, with
// --expose-gc. On SIGUSR2 it reads MAIL2SMS_BENCH_MEMORY_DIR/request.json ({ id, snapshot }),
// runs full garbage collections, and writes what the process holds into report-<id>.json
// (and a heap snapshot when asked): the bench then reads memory after a GC, not whatever
// garbage happened to be waiting for the next one.
const fs = require('node:fs')
const path = require('node:path')
const v8 = require('node:v8')
const { setImmediate } = require('node:timers')

const dir = process.env.MAIL2SMS_BENCH_MEMORY_DIR

function vmRssKiB() {
  const status = fs.readFileSync('/proc/self/status', 'utf8')
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status)
  return m ? Number(m[1]) : null
}

// A GC frees objects whose finalizers and weak callbacks then run on a later turn; the next GC
// frees what those released. Three rounds with a turn in between leave nothing collectable.
async function collectGarbage() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

async function report() {
  const request = JSON.parse(fs.readFileSync(path.join(dir, 'request.json'), 'utf8'))
  const gc = typeof globalThis.gc === 'function'
  if (gc) await collectGarbage()
  const usage = process.memoryUsage()
  const heap = v8.getHeapStatistics()
  if (request.snapshot) v8.writeHeapSnapshot(request.snapshot)
  const file = path.join(dir, `report-${request.id}.json`)
  // Renamed into place so that the bench never reads a half-written file.
  fs.writeFileSync(
    `${file}.tmp`,
    JSON.stringify({
      gc,
      vmRssKiB: vmRssKiB(),
      rss: usage.rss,
      heapUsed: usage.heapUsed,
      heapTotal: usage.heapTotal,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      mallocedMemory: heap.malloced_memory,
      handles: process.getActiveResourcesInfo().length,
    }),
  )
  fs.renameSync(`${file}.tmp`, file)
}

// Haraka looks up every client's name before its banner. The bench gives it a DNS server of
// its own on loopback: tens of thousands of lookups must not go to the machine's resolver
// (which here drops one query in fifty: a one-second retry each time).
if (process.env.MAIL2SMS_BENCH_DNS_SERVER) {
  require('node:dns').setServers([process.env.MAIL2SMS_BENCH_DNS_SERVER])
}

if (dir) {
  process.on('SIGUSR2', () => {
    report().catch((err) => process.stderr.write(`bench memory report failed: ${err.stack}\n`))
  })
}
