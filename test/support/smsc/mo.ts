import type { PduFields } from 'smpp'
import { DATA_CODING, encodeText, type MoEncoding } from './text'
import { concatUdh } from './udh'

export interface MoMessage {
  from: string
  to: string
  text: string
  encoding: MoEncoding
  /** data_coding to label the octets with, when not the encoding's own (0 for Latin-1, say). */
  dataCoding?: number
  /** Send as several deliver_sm, concatenated by UDH or by SAR TLVs. */
  split?: { method: 'udh' | 'sar'; parts: number }
}

const ESM_CLASS_UDHI = 0x40

/** `+33…` is international (TON 1, NPI 1); other digits are TON 0; anything else alphanumeric. */
function address(value: string): { ton: number; npi: number; addr: string } {
  if (/^\+\d+$/.test(value)) return { ton: 1, npi: 1, addr: value.slice(1) }
  if (/^\d+$/.test(value)) return { ton: 0, npi: 1, addr: value }
  return { ton: 5, npi: 0, addr: value }
}

/** The deliver_sm fields of each part of an MO message. */
export function moParts(mo: MoMessage, ref: number): PduFields[] {
  const count = mo.split?.parts ?? 1
  const characters = Array.from(mo.text)
  const size = Math.ceil(characters.length / count)
  const from = address(mo.from)
  const to = address(mo.to)
  const useUdh = count > 1 && mo.split?.method === 'udh'
  const useSar = count > 1 && mo.split?.method === 'sar'
  return Array.from({ length: count }, (_, i) => {
    const chunk = characters.slice(i * size, (i + 1) * size).join('')
    if (chunk === '') throw new Error(`text too short for ${count} parts`)
    const body = encodeText(chunk, mo.encoding)
    const limit =
      (mo.encoding === 'gsm7' ? 160 : 140) - (useUdh ? (mo.encoding === 'gsm7' ? 7 : 6) : 0)
    if (body.length > limit)
      throw new Error(`part ${i + 1} has ${body.length} units, over ${limit}`)
    const concat = { ref, total: count, seq: i + 1 }
    return {
      source_addr_ton: from.ton,
      source_addr_npi: from.npi,
      source_addr: from.addr,
      dest_addr_ton: to.ton,
      dest_addr_npi: to.npi,
      destination_addr: to.addr,
      esm_class: useUdh ? ESM_CLASS_UDHI : 0,
      data_coding: mo.dataCoding ?? DATA_CODING[mo.encoding],
      short_message: useUdh ? Buffer.concat([concatUdh(concat), body]) : body,
      ...(useSar && {
        sar_msg_ref_num: ref,
        sar_total_segments: count,
        sar_segment_seqnum: i + 1,
      }),
    }
  })
}
