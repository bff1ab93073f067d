import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import { html } from 'hono/html'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AdminEnv, PageProps } from '../env'
import { Layout } from '../layout'

/**
 * A full page with a given status, for places where c.render may not be set up yet (errors
 * raised before the renderer middleware, such as the CSRF check).
 */
export function renderPage(
  c: Context<AdminEnv>,
  status: ContentfulStatusCode,
  props: PageProps,
  content: Child,
): Response | Promise<Response> {
  return c.html(
    html`<!DOCTYPE html>${(
        <Layout c={c} title={props.title} section={props.section}>
          {content}
        </Layout>
      )}`,
    status,
  )
}

/** A page that only says something: errors, "link expired", "no account yet". */
export function MessageBody(props: { text: string; children?: Child }) {
  return (
    <div class="message">
      <p>{props.text}</p>
      {props.children}
    </div>
  )
}
