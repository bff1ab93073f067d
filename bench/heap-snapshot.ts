/**
 * What a V8 heap snapshot holds, by kind of object, and how two snapshots differ: taken
 * without and with N connections open, the difference divided by N is what one connection is
 * made of (Haraka's Connection, its notes, sockets, timers, buffers, strings).
 */
import fs from 'node:fs'

interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

interface Tally {
  count: number
  bytes: number
}

/** Node types whose name says nothing per object (a string's name is its text). */
const NAMED_BY_TYPE = new Set(['string', 'concatenated string', 'sliced string', 'number', 'code'])

function tally(file: string): Map<string, Tally> {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as SnapshotFile
  const fields = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const out = new Map<string, Tally>()
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]]
    const key = NAMED_BY_TYPE.has(type)
      ? `(${type})`
      : `${snap.strings[snap.nodes[i + nameAt]].slice(0, 60)} [${type}]`
    const t = out.get(key) ?? { count: 0, bytes: 0 }
    t.count++
    t.bytes += snap.nodes[i + sizeAt]
    out.set(key, t)
  }
  return out
}

export interface HeapDiffRow {
  what: string
  /** Objects of this kind per connection, and their own bytes per connection. */
  perConnection: number
  bytesPerConnection: number
}

export interface HeapDiff {
  connections: number
  totalBytesPerConnection: number
  rows: HeapDiffRow[]
}

export function diffHeapSnapshots(before: string, after: string, connections: number): HeapDiff {
  const a = tally(before)
  const b = tally(after)
  const rows: HeapDiffRow[] = []
  for (const [what, t] of b) {
    const old = a.get(what) ?? { count: 0, bytes: 0 }
    rows.push({
      what,
      perConnection: (t.count - old.count) / connections,
      bytesPerConnection: (t.bytes - old.bytes) / connections,
    })
  }
  rows.sort((x, y) => y.bytesPerConnection - x.bytesPerConnection)
  return {
    connections,
    totalBytesPerConnection: rows.reduce((n, r) => n + r.bytesPerConnection, 0),
    rows: rows.filter((r) => Math.abs(r.bytesPerConnection) >= 16),
  }
}

export function formatHeapDiff(kind: string, diff: HeapDiff, top = 30): string {
  const lines = [
    `heap per ${kind} connection (snapshot diff, ${diff.connections} connections): ` +
      `${(diff.totalBytesPerConnection / 1024).toFixed(1)} KiB of JS objects' own size`,
    '     bytes   objects  kind [V8 node type]',
  ]
  for (const r of diff.rows.slice(0, top)) {
    lines.push(
      `${r.bytesPerConnection.toFixed(0).padStart(10)} ${r.perConnection.toFixed(2).padStart(9)}  ${r.what}`,
    )
  }
  return lines.join('\n')
}
