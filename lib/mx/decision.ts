/** The answer a policy step gives, independent of Haraka: the plugin maps it to a reply. */
export type Decision =
  | { action: 'accept'; message?: string }
  | { action: 'deny' | 'defer'; code: number; status: string; message: string }

export const accept = (message?: string): Decision => ({ action: 'accept', message })

export function deny(status: string, message: string, code = 550): Decision {
  return { action: 'deny', code, status, message }
}

export function defer(status: string, message: string, code = 451): Decision {
  return { action: 'defer', code, status, message }
}
