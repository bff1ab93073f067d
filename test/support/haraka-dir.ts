import fs from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(__dirname, '..', '..')

/**
 * A folder for `MAIL2SMS_HARAKA_DIR`: the project's Haraka config with only the listen address
 * (and a short forced shutdown) changed, and its plugins, so `mail2sms start` runs on a port of
 * the test's own.
 */
export function makeHarakaDir(dir: string, port: number): string {
  fs.cpSync(path.join(ROOT, 'config'), path.join(dir, 'config'), { recursive: true })
  fs.symlinkSync(path.join(ROOT, 'plugins'), path.join(dir, 'plugins'))
  const smtpIni = path.join(dir, 'config', 'smtp.ini')
  fs.writeFileSync(
    smtpIni,
    fs
      .readFileSync(smtpIni, 'utf8')
      .replace(/^listen=.*$/m, `listen=127.0.0.1:${port}`)
      .replace(/^force_shutdown_timeout=.*$/m, 'force_shutdown_timeout=5'),
  )
  return dir
}
