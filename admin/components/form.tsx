import type { Child } from 'hono/jsx'

/**
 * Small form pieces shared by the admin pages. Every input has a visible label; an error is
 * tied to its input with aria-describedby so screen readers read it with the field.
 */

/** A message about the whole form, e.g. "Adresse ou mot de passe incorrect". */
export function FormError(props: { message?: string | null }) {
  if (!props.message) return null
  return (
    <p class="form-error" role="alert">
      {props.message}
    </p>
  )
}

export interface FieldProps {
  /** Also the id of the input unless `id` is given. */
  name: string
  label: string
  id?: string
  type?: 'text' | 'email' | 'password' | 'number' | 'url' | 'tel' | 'search'
  value?: string | number | null
  error?: string | null
  hint?: string
  required?: boolean
  autocomplete?: string
  maxlength?: number
  placeholder?: string
  inputmode?: 'text' | 'email' | 'numeric' | 'tel' | 'url'
}

/** The attributes that tie a control to its hint and error, for screen readers. */
export interface ControlAria {
  'aria-invalid'?: 'true'
  'aria-describedby'?: string
}

/**
 * A labelled field around any control (input, select, textarea): the hint before it, the error
 * after it. `control` gets the aria attributes to spread on the control.
 */
export function FieldFrame(props: {
  id: string
  label: string
  hint?: string
  error?: string | null
  control: (aria: ControlAria) => Child
}) {
  const { id, hint, error } = props
  const hintId = hint ? `${id}-hint` : undefined
  const errorId = error ? `${id}-error` : undefined
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined
  return (
    <div class={error ? 'field field-invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
      {props.control({
        'aria-invalid': error ? 'true' : undefined,
        'aria-describedby': describedBy,
      })}
      {error && (
        <p class="field-error" id={errorId}>
          {error}
        </p>
      )}
    </div>
  )
}

export function Field(props: FieldProps) {
  const id = props.id ?? props.name
  return (
    <FieldFrame
      id={id}
      label={props.label}
      hint={props.hint}
      error={props.error}
      control={(aria) => (
        <input
          id={id}
          name={props.name}
          type={props.type ?? 'text'}
          value={props.value == null ? undefined : String(props.value)}
          required={props.required}
          autocomplete={props.autocomplete}
          maxlength={props.maxlength}
          placeholder={props.placeholder}
          inputmode={props.inputmode}
          {...aria}
        />
      )}
    />
  )
}

/** A text field of a posted form; a missing field or a file counts as empty. */
export function formText(body: Record<string, unknown>, name: string): string {
  const value = body[name]
  return typeof value === 'string' ? value : ''
}

/** A checkbox with its label after it, as people expect. */
export function Checkbox(props: {
  name: string
  label: string
  checked?: boolean
  id?: string
  hint?: string
  value?: string
}) {
  const id = props.id ?? props.name
  const hintId = props.hint ? `${id}-hint` : undefined
  return (
    <div class="field field-checkbox">
      <input
        type="checkbox"
        id={id}
        name={props.name}
        value={props.value ?? 'on'}
        checked={props.checked}
        aria-describedby={hintId}
      />
      <label for={id}>{props.label}</label>
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
    </div>
  )
}

/**
 * A button that POSTs (Effacer, Renvoyer): a one-button form, since a link must never change
 * anything. `label` names the action for screen readers when the button text is short.
 */
export function PostButton(props: {
  action: string
  children: Child
  label?: string
  fields?: Record<string, string>
  danger?: boolean
  /** GET for a button that only opens a page (a confirmation); POST otherwise. */
  method?: 'get' | 'post'
}) {
  return (
    <form method={props.method ?? 'post'} action={props.action} class="inline">
      {Object.entries(props.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button type="submit" class={props.danger ? 'danger' : undefined} aria-label={props.label}>
        {props.children}
      </button>
    </form>
  )
}

/**
 * Times are UTC milliseconds, shown in the account's zone with the zone's short name
 * ("6 déc. 2026, 14:05 UTC+1"), so nobody guesses the zone. The formatters are made once per
 * language and zone (lib/time/zone.ts): a list page formats two dates a row.
 */
export { formatDateTime } from '../../lib/time/zone'
