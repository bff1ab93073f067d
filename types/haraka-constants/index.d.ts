declare module 'haraka-constants' {
  export const cont: number
  export const stop: number
  export const deny: number
  export const denysoft: number
  export const denydisconnect: number
  export const denysoftdisconnect: number
  export const disconnect: number
  export const ok: number
}
