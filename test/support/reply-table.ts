import fs from 'node:fs'
import path from 'node:path'
import prettier from 'prettier'
import { renderReplyTable } from '../../lib/mx/replies'

/** The README's reply table sits between these markers and is rendered from the catalogue. */
export const START = '<!-- reply-catalogue:start -->'
export const END = '<!-- reply-catalogue:end -->'

export async function formattedReplyTable(readme: string): Promise<string> {
  const options = (await prettier.resolveConfig(readme)) ?? {}
  return (await prettier.format(renderReplyTable(), { ...options, parser: 'markdown' })).trim()
}

/** The table as the README holds it now, or null when the markers are missing. */
export function readmeReplyTable(text: string): string | null {
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start < 0 || end < start) return null
  return text.slice(start + START.length, end).trim()
}

/** Rewrites the README's table from the catalogue (`npm run docs:replies`). */
export async function writeReplyTable(readme: string): Promise<void> {
  const text = fs.readFileSync(readme, 'utf8')
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start < 0 || end < start) throw new Error(`${readme}: markers ${START} / ${END} not found`)
  const table = await formattedReplyTable(readme)
  fs.writeFileSync(
    readme,
    `${text.slice(0, start + START.length)}\n\n${table}\n\n${text.slice(end)}`,
  )
}

// Run as a script by `npm run docs:replies` (through bin/run-ts.js, which sets argv[1]).
if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  writeReplyTable(path.resolve(__dirname, '..', '..', 'README.md')).catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
