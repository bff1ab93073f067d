'use strict'
// Loaded into a Haraka under bench through NODE_OPTIONS=--require (Node refuses --cpu-prof
// there). The first SIGUSR2 starts V8's CPU profiler, the next one writes the profile into
// MAIL2SMS_BENCH_PROFILE_DIR: only the measured rounds are profiled, not start-up or warm-up.
const fs = require('node:fs')
const path = require('node:path')
const inspector = require('node:inspector')

const dir = process.env.MAIL2SMS_BENCH_PROFILE_DIR
if (dir) {
  const session = new inspector.Session()
  session.connect()
  let running = false
  const report = (what, err) => {
    if (err) process.stderr.write(`bench profiler: ${what} failed: ${err.message}\n`)
  }
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true
      session.post('Profiler.enable', (err) => {
        report('enable', err)
        session.post('Profiler.setSamplingInterval', { interval: 500 }, (err2) => {
          report('setSamplingInterval', err2)
          session.post('Profiler.start', (err3) => report('start', err3))
        })
      })
      return
    }
    running = false
    session.post('Profiler.stop', (err, result) => {
      if (err) return report('stop', err)
      fs.mkdirSync(dir, { recursive: true })
      const file = path.join(dir, `haraka-${process.pid}.cpuprofile`)
      // Renamed into place so that the bench never reads a half-written file.
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(result.profile))
      fs.renameSync(`${file}.tmp`, file)
    })
  })
}
