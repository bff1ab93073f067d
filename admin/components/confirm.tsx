import { PostButton } from './form'
import type { Child } from 'hono/jsx'
import type { Lang } from '../env'
import { defineMessages } from '../i18n'

/**
 * Destructive actions (deleting a user, an IP address, the webhook secret; replacing the secret)
 * go through a confirmation page, without JavaScript: the list's button opens the page (GET,
 * which changes nothing), the page names what goes and from which account, and only its form
 * POSTs with CONFIRM_FIELD. A POST without it (an old page, a forged or replayed form) deletes
 * nothing and leads to the confirmation instead.
 */
export const CONFIRM_FIELD = 'confirm'
const CONFIRM_VALUE = 'yes'

const t = defineMessages(
  {
    remove: 'Supprimer',
    cancel: 'Annuler',
    final: 'Cette action est définitive.',
  },
  {
    remove: 'Delete',
    cancel: 'Cancel',
    final: 'This cannot be undone.',
  },
)

/** Whether a posted form went through the confirmation page. */
export function isConfirmed(body: Record<string, unknown>): boolean {
  return body[CONFIRM_FIELD] === CONFIRM_VALUE
}

/**
 * A button that opens the confirmation page: a one-button GET form, so that it looks like the
 * other buttons of the list. `label` names the action for screen readers.
 */
export function ConfirmFirstButton(props: {
  href: string
  children: Child
  label?: string
  fields?: Record<string, string>
  danger?: boolean
}) {
  const { href, ...rest } = props
  return <PostButton {...rest} action={href} method="get" />
}

/**
 * The body of a confirmation page. `what` names exactly what the action removes or replaces
 * and in which account; `consequence` says what follows from it.
 */
export function ConfirmAction(props: {
  lang: Lang
  what: string
  consequence: string
  action: string
  fields?: Record<string, string>
  cancel: string
  /** The button's text; "Supprimer" / "Delete" unless the action replaces rather than deletes. */
  confirmLabel?: string
}) {
  const m = t(props.lang)
  return (
    <div class="card confirm">
      <p>
        <strong>{props.what}</strong>
      </p>
      <p>{props.consequence}</p>
      <p class="hint">{m.final}</p>
      <div class="confirm-actions">
        <form method="post" action={props.action} class="inline">
          {Object.entries(props.fields ?? {}).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <input type="hidden" name={CONFIRM_FIELD} value={CONFIRM_VALUE} />
          <button type="submit" class="danger">
            {props.confirmLabel ?? m.remove}
          </button>
        </form>
        <a href={props.cancel}>{m.cancel}</a>
      </div>
    </div>
  )
}
