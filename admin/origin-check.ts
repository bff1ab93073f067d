import type { Context, MiddlewareHandler } from 'hono'
import type { AdminEnv } from './env'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Cross-site request forgery guard: every request that may change something must carry the
 * admin's own Origin, whatever its body type. Hono's csrf() checks form-like bodies only, so a
 * JSON or body-less POST went through unchecked; a route that ignores the body (logout, delete,
 * resend) would then act on a forged request.
 *
 * Origin only, no fallback to Sec-Fetch-Site or Referer: every browser that runs the admin's
 * pages sends Origin on a POST, same-origin ones included, and a request without it does not
 * come from our forms. Referer can be stripped by policies and extensions and would have to be
 * parsed; Sec-Fetch-Site is sent by the same browsers that send Origin, so it adds nothing.
 */
export function requireSameOrigin(
  origin: string,
  refuse: (c: Context<AdminEnv>) => Response | Promise<Response>,
): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method) && c.req.header('origin') !== origin) {
      return refuse(c)
    }
    await next()
  }
}
