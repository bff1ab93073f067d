declare module 'haraka-dsn' {
  export interface DSN {
    code: number
    reply: string
  }
  export function create(code: number, msg: string, subject: number, detail: number): DSN
}
