import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

/**
 * lib/db/outbound/ is the one owner of the outbound SMS tables and of their daily counts
 * (sms_daily_rollup, sms_daily_delta): no other source file may name them in a string (a knex table name, a raw statement, an index name). Comments may: they
 * explain, they do not query. Migrations, tests and benches set up and check the tables.
 */
const ROOT = path.resolve(__dirname, '../../../..')
const OWNER = 'lib/db/outbound'
const EXEMPT = new Set([OWNER, 'migrations', 'test', 'bench'])
const SKIPPED = new Set(['node_modules', 'dist', 'data', 'queue', '.git'])
const SOURCE = /\.(ts|tsx|js|cjs|mjs)$/
const TABLE = /\b(outbound_sms|sms_daily_)/

function sourceFiles(dir: string, found: string[] = []): string[] {
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name
    if (entry.isDirectory()) {
      if (!SKIPPED.has(entry.name)) sourceFiles(rel, found)
    } else if (entry.isFile() && SOURCE.test(entry.name)) found.push(rel)
  }
  return found
}

const isExempt = (rel: string): boolean =>
  [...EXEMPT].some((dir) => rel === dir || rel.startsWith(`${dir}/`))

/** The strings and template pieces of a source file that name the tables, with their lines. */
function tableNames(fileName: string, text: string): string[] {
  // Most files do not mention the tables at all: no need to parse them.
  if (!TABLE.test(text)) return []
  const kind = fileName.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind)
  const hits: string[] = []
  const visit = (node: ts.Node): void => {
    const literal =
      ts.isStringLiteralLike(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    if (literal && TABLE.test(node.text)) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1
      hits.push(`${fileName}:${line}: ${JSON.stringify(node.text)}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return hits
}

describe('lib/db/outbound owns the outbound SMS tables', () => {
  it('finds the tables named in statements, and not in comments', () => {
    const code = [
      '// outbound_sms is read here',
      "const a = db('outbound_sms').where({ id })",
      'const b = db.raw(`select id from ${t} join outbound_sms_parts p on p.id = ${id}`)',
      'const c = `x ${y} from outbound_sms`',
      "const d = db.raw('?? FORCE INDEX (??)', [t, 'outbound_sms_account_id_id_index'])",
      "const e = db('sms_daily_rollup').where({ day })",
    ].join('\n')
    assert.deepEqual(
      tableNames('sample.ts', code).map((h) => h.split(':')[1]),
      ['2', '3', '4', '5', '6'],
    )
  })

  it('no file outside it names them', () => {
    const files = sourceFiles('')
    // The walk reached the code that queries SMS rows, and the owner is where the names are.
    for (const f of ['lib/worker/receipts.ts', 'lib/inbound/dispatcher.ts', 'bin/cli.ts'])
      assert.ok(files.includes(f), `${f} was not scanned`)
    const owned = files.filter((f) => f.startsWith(`${OWNER}/`))
    assert.ok(
      owned.some((f) => tableNames(f, fs.readFileSync(path.join(ROOT, f), 'utf8')).length > 0),
      `no statement found in ${OWNER}`,
    )
    const outside = files
      .filter((f) => !isExempt(f))
      .flatMap((f) => tableNames(f, fs.readFileSync(path.join(ROOT, f), 'utf8')))
    assert.deepEqual(
      outside,
      [],
      `move these statements into ${OWNER}/ and call them by a name that says what they do`,
    )
  })
})
