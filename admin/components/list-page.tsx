import type { Child } from 'hono/jsx'
import { FormError } from './form'

/**
 * The parts every list page shares (SMS log, received SMS, opt-outs, audit log): a filter
 * form as a card, its fields on a grid, and the links between pages of a keyset list.
 */

/** A GET form of filters: the title above, the fields side by side as the width allows. */
export function FilterCard(props: {
  id: string
  title: string
  action: string
  /** About the whole form (a filter that was not applied). */
  error?: string | null
  submit: string
  /** "Tout afficher": the list without filters. */
  reset: string
  /** More actions after the reset link (a download). */
  extra?: Child
  children: Child
}) {
  return (
    <form
      method="get"
      action={props.action}
      class="sms-filter card wide"
      aria-labelledby={props.id}
    >
      <h2 id={props.id}>{props.title}</h2>
      <FormError message={props.error ?? null} />
      <div class="filter-fields">{props.children}</div>
      <div class="actions-row">
        <button type="submit" class="primary">
          {props.submit}
        </button>
        <a href={props.action}>{props.reset}</a>
        {props.extra}
      </div>
    </form>
  )
}

/**
 * "Retour aux plus récents" when this is not the first page, "Page suivante" when there is
 * one; nothing on a single page.
 */
export function Pager(props: {
  label: string
  first: { href: string; text: string } | null
  next: { href: string; text: string } | null
}) {
  if (!props.first && !props.next) return null
  return (
    <nav class="pager" aria-label={props.label}>
      {props.first && <a href={props.first.href}>{props.first.text}</a>}{' '}
      {props.next && (
        <a rel="next" href={props.next.href}>
          {props.next.text}
        </a>
      )}
    </nav>
  )
}
