/**
 * Every answer the MX gives of its own, defined once: SMTP code, enhanced status (RFC 3463),
 * the text the sender reads, and what the README says about it. Policies ask for a reply by
 * name (`answer('optedOut', {...})`); the Haraka adapter only maps the result to a return code.
 * The README's reply table is rendered from this list (`npm run docs:replies`), and a test
 * fails when the two differ.
 *
 * Texts stay ASCII: a reply without SMTPUTF8 must. Temporary answers (4xx) are for what a retry
 * can fix (our own trouble, a rate limit); permanent ones (5xx) for what it cannot.
 */
import type { Decision } from './decision'

export type Phase = 'connect' | 'MAIL FROM' | 'RCPT TO' | 'DATA' | 'any'

interface ReplySpec<P> {
  code: number
  status: string
  phase: Phase
  /** When it is given, for the README. */
  when: string
  /** What the sender should do, for the README. */
  advice: string
  text(params: P): string
  /** Parameters that render the README's sample. */
  example: P
}

const spec = <P>(s: ReplySpec<P>): ReplySpec<P> => s

export const REPLIES = {
  queued: spec({
    code: 250,
    status: '2.0.0',
    phase: 'DATA',
    when: 'the SMS rows are committed (one per number)',
    advice: 'nothing; `already queued as …` means a retry of an email already taken',
    text: (p: { what: string; duplicate: boolean }) =>
      `${p.duplicate ? 'already queued' : 'queued'} as ${p.what}`,
    example: { what: 'SMS 17', duplicate: false },
  }),
  tooManyConnections: spec({
    code: 421,
    status: '4.7.0',
    phase: 'connect',
    when: 'the client IP already has `mx.max_connections_per_ip` connections open',
    advice: 'none: the sending server retries; send over fewer connections',
    text: (p: { ip: string; max: number }) =>
      `too many connections from ${p.ip} (at most ${p.max} at once); try again later`,
    example: { ip: '192.0.2.7', max: 50 },
  }),
  senderNotAuthorised: spec({
    code: 550,
    status: '5.7.1',
    phase: 'MAIL FROM',
    when: 'the address is no sender of any account',
    advice: 'ask the account admin to invite the address',
    text: (p: { sender: string }) =>
      `${p.sender} is not authorised to send SMS through this gateway: ask your account admin to invite this address`,
    example: { sender: 'bob@example.com' },
  }),
  senderPending: spec({
    code: 550,
    status: '5.7.1',
    phase: 'MAIL FROM',
    when: 'the sender was invited but has not activated',
    advice: 'open the activation link',
    text: (p: { sender: string }) =>
      `${p.sender} is invited but has not accepted the invitation yet: open the activation link in the invitation email, then send again`,
    example: { sender: 'bob@example.com' },
  }),
  ipNotAllowed: spec({
    code: 550,
    status: '5.7.23',
    phase: 'MAIL FROM',
    when: 'the client IP is on no list of the sender’s accounts and SPF did not pass',
    advice: 'send through an allowed server, add the IP, or fix SPF',
    text: (p: { ip: string; label: string; domain: string; spf: string }) =>
      `IP ${p.ip} may not send SMS for ${p.label}: it is on no IP list of the account and SPF for ${p.domain} gives "${p.spf}"; publish an SPF record that covers this server, or ask your account admin to add the IP`,
    example: { ip: '192.0.2.7', label: 'bob@example.com', domain: 'example.com', spf: 'fail' },
  }),
  spfTempError: spec({
    code: 451,
    status: '4.7.24',
    phase: 'MAIL FROM',
    when: 'DNS trouble during SPF',
    advice: 'none: the sending server retries',
    text: (p: { domain: string; explanation: string }) =>
      `SPF lookup for ${p.domain} failed temporarily (${p.explanation}); try again later`,
    example: { domain: 'example.com', explanation: 'DNS timeout' },
  }),
  spfPermError: spec({
    code: 550,
    status: '5.7.24',
    phase: 'MAIL FROM',
    when: 'SPF permerror',
    advice: 'fix the domain’s SPF record',
    text: (p: { domain: string; explanation: string; ip: string }) =>
      `the SPF record of ${p.domain} is invalid (${p.explanation}): fix it, or ask your account admin to allow IP ${p.ip}`,
    example: { domain: 'example.com', explanation: 'too many DNS lookups', ip: '192.0.2.7' },
  }),
  nullSender: spec({
    code: 550,
    status: '5.7.1',
    phase: 'RCPT TO',
    when: 'after `MAIL FROM:<>`',
    advice: 'none: bounces never become SMS',
    text: () => 'mail from the null sender <> (bounces, notices) is never sent as SMS',
    example: {},
  }),
  relayDenied: spec({
    code: 550,
    status: '5.7.1',
    phase: 'RCPT TO',
    when: 'another domain than the SMS domains',
    advice: 'none: the gateway is not an open relay',
    text: (p: { domain: string }) =>
      `relaying denied: this gateway only takes mail for <mobile number>@${p.domain}`,
    example: { domain: 'sms.example.com' },
  }),
  notAccountSender: spec({
    code: 550,
    status: '5.7.1',
    phase: 'RCPT TO',
    when: '`<number>+x@…` names an account the sender is not in',
    advice: 'fix the `+x` part',
    text: (p: { sender: string; account: string }) =>
      `${p.sender} is not an accepted sender of account "${p.account}": check the +${p.account} part of the address`,
    example: { sender: 'bob@example.com', account: 'acme' },
  }),
  invalidNumber: spec({
    code: 550,
    status: '5.1.3',
    phase: 'RCPT TO',
    when: 'the number cannot receive SMS (invalid, landline, premium rate…)',
    advice: 'write a mobile number, e.g. `+33612345678@…`',
    text: (p: { address: string; problem: string; domain: string }) =>
      `${p.address}: ${p.problem}; write the mobile number in international form, e.g. +33612345678@${p.domain}`,
    example: {
      address: '0145678901@sms.example.com',
      problem: '+33145678901 is a landline number',
      domain: 'sms.example.com',
    },
  }),
  destinationNotAllowed: spec({
    code: 550,
    status: '5.7.1',
    phase: 'RCPT TO',
    when: 'the number is in a country (or a satellite or other non-geographic range) the account may not text',
    advice: 'ask the operator to allow that destination for the account',
    text: (p: { e164: string; destination: string; account: string; allowed: string }) =>
      `${p.e164} is ${p.destination}, which account "${p.account}" may not send SMS to (allowed: ${p.allowed}); ask the gateway operator to allow it`,
    example: {
      e164: '+881612345678',
      destination: 'a satellite or other non-geographic number (+881)',
      account: 'acme',
      allowed: 'FR',
    },
  }),
  optedOut: spec({
    code: 550,
    status: '5.7.1',
    phase: 'RCPT TO',
    when: 'the number texted STOP to this account',
    advice: 'none: only the person can text START to opt back in',
    text: (p: { e164: string; keyword: string }) =>
      `${p.e164} has opted out of SMS from this account (they texted ${p.keyword}); they can text START to opt back in`,
    example: { e164: '+33612345678', keyword: 'STOP' },
  }),
  tooManyRecipients: spec({
    code: 452,
    status: '4.5.3',
    phase: 'RCPT TO',
    when: 'more numbers than `mx.max_recipients`',
    advice: 'send the rest in another message',
    text: (p: { max: number }) =>
      `too many recipients: at most ${p.max} numbers per message; send the rest in another message`,
    example: { max: 50 },
  }),
  automaticMail: spec({
    code: 550,
    status: '5.7.1',
    phase: 'DATA',
    when: '`Auto-Submitted`, reports, read receipts, `Precedence: bulk/junk/list/auto_reply`, `X-Autoreply`',
    advice: 'none: loops are prevented',
    text: (p: { reason: string }) =>
      `automatic mail (${p.reason.slice(0, 80)}) is not sent as SMS, so that no mail loop can start`,
    example: { reason: 'Auto-Submitted: auto-replied' },
  }),
  unreadableMessage: spec({
    code: 550,
    status: '5.6.0',
    phase: 'DATA',
    when: 'the MIME structure cannot be read (e.g. more than 1,000 parts)',
    advice: 'send the SMS text as a plain email',
    text: (p: { reason: string }) =>
      `the message cannot be read as an email (${p.reason}): send the SMS text as a plain email`,
    example: { reason: 'more than 1000 MIME parts' },
  }),
  noText: spec({
    code: 550,
    status: '5.6.0',
    phase: 'DATA',
    when: 'nothing left after trimming, and no subject',
    advice: 'write the SMS in the body',
    text: () => 'the message has no text to send: write the SMS in the body of the email',
    example: {},
  }),
  tooLong: spec({
    code: 550,
    status: '5.3.4',
    phase: 'DATA',
    when: 'longer than the account’s segment cap',
    advice: 'shorten it (the reply says which character forced UCS-2, if one did)',
    text: (p: { segments: number; size: string; account: string; cap: number }) =>
      `the text needs ${p.segments} SMS (${p.size}) and account "${p.account}" allows at most ${p.cap}: shorten it`,
    example: { segments: 7, size: '1010 GSM-7 characters', account: 'acme', cap: 4 },
  }),
  contentLoop: spec({
    code: 550,
    status: '5.7.1',
    phase: 'DATA',
    when: 'the same sender sent the same text to the same number `limits.loop_max_repeats` times within `limits.loop_window_minutes`',
    advice: 'check the application or rule that keeps sending it',
    text: (p: { e164: string; times: number; minutes: number }) =>
      `the same text was already sent to ${p.e164} ${p.times} times in the last ${p.minutes} minutes: refused to stop a loop; check what keeps sending it`,
    example: { e164: '+33612345678', times: 5, minutes: 10 },
  }),
  accountRateLimited: spec({
    code: 451,
    status: '4.7.1',
    phase: 'DATA',
    when: 'the account reached its SMS per minute',
    advice: 'none: the sending server retries later',
    text: (p: { account: string; limit: number; resetAt: string }) =>
      `account "${p.account}" may send at most ${p.limit} SMS per minute; try again after ${p.resetAt}`,
    example: { account: 'acme', limit: 300, resetAt: '14:05 UTC' },
  }),
  senderRateLimited: spec({
    code: 451,
    status: '4.7.1',
    phase: 'DATA',
    when: 'the sender reached their SMS per minute',
    advice: 'none: the sending server retries later',
    text: (p: { sender: string; limit: number; resetAt: string }) =>
      `${p.sender} may send at most ${p.limit} SMS per minute; try again after ${p.resetAt}`,
    example: { sender: 'bob@example.com', limit: 60, resetAt: '14:05 UTC' },
  }),
  rateLimitBelowMessage: spec({
    code: 550,
    status: '5.7.1',
    phase: 'DATA',
    when: 'one message has more numbers than the account or sender may text per minute',
    advice: 'send it to fewer numbers at once',
    /** `who`: `account "acme"`, or `the rate of sender bob@example.com`. */
    text: (p: { who: string; limit: number; sms: number }) =>
      `this message makes ${p.sms} SMS but ${p.who} allows at most ${p.limit} SMS per minute: send it to fewer numbers at once`,
    example: { who: 'account "acme"', limit: 60, sms: 80 },
  }),
  quotaSpent: spec({
    code: 550,
    status: '5.7.1',
    phase: 'DATA',
    when: 'the account’s daily or monthly quota of SMS segments would be exceeded',
    advice: 'wait for the reset the reply names, or ask the operator for a larger quota',
    text: (p: {
      account: string
      period: 'daily' | 'monthly'
      limit: number
      used: number
      needed: number
      resetAt: string
    }) =>
      `the ${p.period} quota of account "${p.account}" is spent: ${p.used} of ${p.limit} SMS segments used and this message needs ${p.needed}; it resets at ${p.resetAt}`,
    example: {
      account: 'acme',
      period: 'daily',
      limit: 1000,
      used: 998,
      needed: 3,
      resetAt: '2026-12-07 00:00 UTC',
    },
  }),
  temporaryFailure: spec({
    code: 451,
    status: '4.3.0',
    phase: 'any',
    when: 'the database could not be reached, or parsing or the commit failed',
    advice: 'none: the sending server retries; nothing was queued',
    text: (p: { what: string }) => `${p.what} is temporarily unavailable; try again later`,
    example: { what: 'SMS queue' },
  }),
} as const

export type ReplyName = keyof typeof REPLIES
type ParamsOf<K extends ReplyName> = Parameters<(typeof REPLIES)[K]['text']>[0]

/** The decision a policy returns for a named reply. */
export function answer<K extends ReplyName>(name: K, params: ParamsOf<K>): Decision {
  const r = REPLIES[name] as ReplySpec<ParamsOf<K>>
  const message = r.text(params)
  if (r.code < 400) return { action: 'accept', message, reason: name }
  return {
    action: r.code >= 500 ? 'deny' : 'defer',
    code: r.code,
    status: r.status,
    message,
    reason: name,
  }
}

/**
 * The reply as the client reads it: `550 5.7.1 text`. Haraka writes its 250 without the
 * enhanced status (and adds the transaction id), so the acceptance shows none either.
 */
export function formatReply<K extends ReplyName>(name: K, params: ParamsOf<K>): string {
  const r = REPLIES[name] as ReplySpec<ParamsOf<K>>
  return r.code < 400 ? `${r.code} ${r.text(params)}` : `${r.code} ${r.status} ${r.text(params)}`
}

/** The README's table, in catalogue order (Prettier aligns it afterwards). */
export function renderReplyTable(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|')
  const rows = (Object.keys(REPLIES) as ReplyName[]).map((name) => {
    const r = REPLIES[name] as ReplySpec<unknown>
    const sample = `\`${formatReply(name, r.example as never)}\``
    return `| ${cell(sample)} | ${r.phase} | ${cell(r.when)} | ${cell(r.advice)} |`
  })
  return [
    '| reply | phase | when | what the sender should do |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n')
}
