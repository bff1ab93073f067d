export {
  GSM7_ESCAPE,
  decodeGsm7,
  encodeGsm7,
  firstNonGsm7Character,
  gsm7SeptetLength,
  isGsm7Character,
} from './gsm7'
export { decodeUcs2, encodeUcs2 } from './ucs2'
export { analyseSms, encodeSms, splitSms } from './segments'
export type { EncodedSms, SmsAnalysis, SmsEncoding } from './segments'
export { foldToGsm7 } from './gsm-fold'
export type { GsmFold } from './gsm-fold'
export { encodeSmsForSmsc } from './smsc-alphabet'
export type { SmscAlphabet } from './smsc-alphabet'
