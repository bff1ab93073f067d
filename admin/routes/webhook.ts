import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { AdminEnv } from '../env'
import {
  applyStatusCallback,
  authenticateWebhook,
  parseInboundCallback,
  parseStatusCallback,
  presentedSecret,
  receiveInboundCallback,
  WebhookInputError,
  type WebhookAccount,
} from '../../lib/inbound/webhook'

/** A callback is a few fields; anything much bigger is not one. */
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024

function logOf(c: Context<AdminEnv>): (line: string) => void {
  return c.get('deps').log ?? ((line) => console.log(`[webhook] ${line}`))
}

function fail(
  c: Context<AdminEnv>,
  status: 400 | 401 | 404 | 409 | 413 | 415 | 500,
  error: string,
) {
  return c.json({ ok: false, error }, status)
}

/** JSON or a form, as a flat object of fields; null when the body is neither. */
async function readFields(c: Context<AdminEnv>): Promise<Record<string, unknown> | null> {
  const type = (c.req.header('content-type') ?? '').toLowerCase()
  if (type.startsWith('application/json') || type.includes('+json')) {
    let value: unknown
    try {
      value = JSON.parse(await c.req.text())
    } catch {
      throw new WebhookInputError('body', 'the body is not valid JSON')
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new WebhookInputError('body', 'the body must be a JSON object')
    }
    return value as Record<string, unknown>
  }
  if (
    type.startsWith('application/x-www-form-urlencoded') ||
    type.startsWith('multipart/form-data')
  ) {
    try {
      return (await c.req.parseBody({ all: true })) as Record<string, unknown>
    } catch {
      throw new WebhookInputError('body', 'the body is not a valid form')
    }
  }
  return null
}

/**
 * Checks the secret before the body is even read; every refusal is the same 401, so that
 * account references cannot be probed.
 */
async function authenticated(c: Context<AdminEnv>): Promise<WebhookAccount | null> {
  const secret = presentedSecret(c.req.header('authorization'), c.req.header('x-webhook-secret'))
  return authenticateWebhook(c.get('deps').db, c.req.param('accountRef') ?? '', secret)
}

/**
 * Callbacks from HTTP carriers, mounted at /webhooks before the admin's CSRF check and session:
 * carriers post from their own servers with the account's webhook secret.
 *
 *   POST /webhooks/:accountRef/inbound  an SMS sent to the account's virtual number
 *   POST /webhooks/:accountRef/status   the fate of an SMS the account sent
 *
 * Answers are JSON: 200 { ok: true, id }, or { ok: false, error } with 400 (a field named),
 * 401, 404 (status for an SMS this account does not have), 413, 415.
 */
export const webhookRoutes = new Hono<AdminEnv>()

webhookRoutes.use(
  '*',
  bodyLimit({
    maxSize: WEBHOOK_MAX_BODY_BYTES,
    onError: (c) => fail(c, 413, `the body must be at most ${WEBHOOK_MAX_BODY_BYTES} bytes`),
  }),
)

async function handleCallback(c: Context<AdminEnv>, kind: 'inbound' | 'status') {
  const account = await authenticated(c)
  if (!account) return fail(c, 401, 'unknown account or wrong webhook secret')
  const { db, clock } = c.get('deps')
  const log = logOf(c)
  try {
    const fields = await readFields(c)
    if (!fields) {
      return fail(c, 415, 'send application/json or application/x-www-form-urlencoded')
    }
    const now = clock()
    if (kind === 'inbound') {
      const sms = parseInboundCallback(fields, account, now)
      const stored = await receiveInboundCallback(db, sms, log)
      // The intake's dedupe is scoped by destination number, so this should not happen; kept
      // so that no change there can ever hand this caller another account's SMS.
      if (stored.accountId !== account.id) {
        log(`webhook account=${account.ref} inbound id clash carrier_id=${sms.carrierId}`)
        return fail(c, 409, 'this message id was already used for another SMS')
      }
      return c.json({ ok: true, id: stored.id })
    }
    const status = parseStatusCallback(fields)
    const settled = await applyStatusCallback(db, account, status, now)
    if (!settled) {
      log(`webhook account=${account.ref} status for unknown message_id=${status.messageId}`)
      return fail(c, 404, 'no SMS of this account has this message_id')
    }
    log(`webhook account=${account.ref} status sms=${settled.smsId} state=${status.state}`)
    return c.json({ ok: true, id: settled.smsId })
  } catch (err) {
    if (err instanceof WebhookInputError) return fail(c, 400, err.message)
    throw err
  }
}

webhookRoutes.post('/:accountRef/inbound', (c) => handleCallback(c, 'inbound'))
webhookRoutes.post('/:accountRef/status', (c) => handleCallback(c, 'status'))

webhookRoutes.onError((err, c) => {
  logOf(c)(`webhook error ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`)
  return fail(c, 500, 'internal error, try again later')
})
