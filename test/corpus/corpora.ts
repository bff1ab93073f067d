import fs from 'node:fs'
import path from 'node:path'

/**
 * Where the shared corpora live: beside the repository (`../shared/corpora`), as on CI, unless
 * MAIL2SMS_CORPORA names another folder. They are other projects' data, read at run time and
 * never copied into this repository.
 */
export function corporaDir(): string {
  return (
    process.env.MAIL2SMS_CORPORA ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'corpora')
  )
}

/** A missing corpus is an error with the path, never a silent pass. */
export function requireCorpus(file: string): string {
  if (!fs.existsSync(file)) {
    throw new Error(`corpus not found at ${file}: set MAIL2SMS_CORPORA to the corpora folder`)
  }
  return file
}
