/**
 * The answer a policy step gives, independent of Haraka: the plugin maps it to a reply. Refusals
 * are made from the reply catalogue (`answer()` in replies.ts), whose entry name is the reason.
 */
export type Decision =
  | { action: 'accept'; message?: string; reason?: string }
  | { action: 'deny' | 'defer'; code: number; status: string; message: string; reason: string }

export const accept = (message?: string): Decision => ({ action: 'accept', message })
