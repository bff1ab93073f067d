declare module '@haraka/email-address' {
  export class Address {
    constructor(address: string)
    readonly address: string
    user: string | null
    host: string | null
    isNull(): boolean
  }
}
