import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Hono } from 'hono'
import { PROJECT_ROOT } from '../lib/config'
import type { AdminEnv } from './env'

/** The only files served from admin/assets/; anything else under /assets is a 404. */
const ASSET_FILES: Record<string, string> = {
  'design.css': 'text/css; charset=utf-8',
  'admin.css': 'text/css; charset=utf-8',
  'preview.js': 'text/javascript; charset=utf-8',
}

export interface Asset {
  body: Uint8Array<ArrayBuffer>
  contentType: string
  etag: string
}

/** Read once at start-up: the set is fixed and small, and nothing on disk is served by name. */
export function loadAssets(dir = path.join(PROJECT_ROOT, 'admin', 'assets')): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  for (const [name, contentType] of Object.entries(ASSET_FILES)) {
    let body: Uint8Array<ArrayBuffer>
    try {
      // A plain Uint8Array, as c.body() wants: made here once rather than copied per request.
      body = new Uint8Array(fs.readFileSync(path.join(dir, name)))
    } catch {
      continue
    }
    const etag = `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    assets.set(name, { body, contentType, etag })
  }
  return assets
}

/**
 * Served with an ETag and a short max-age: browsers keep them for a few minutes, then ask again
 * and get a 304 unless a new release changed the file.
 */
export function assetRoutes(assets: Map<string, Asset>): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>()
  app.get('/:name', (c) => {
    const asset = assets.get(c.req.param('name'))
    if (!asset) return c.notFound()
    c.header('Cache-Control', 'public, max-age=300')
    c.header('ETag', asset.etag)
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304)
    c.header('Content-Type', asset.contentType)
    return c.body(asset.body)
  })
  return app
}
