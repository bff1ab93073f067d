/** Concatenation info, from a UDH (IEI 0x00 or 0x08) or from the SAR TLVs. */
export interface ConcatInfo {
  ref: number
  total: number
  seq: number
}

export interface SplitUdh {
  /** The whole header, length octet included. */
  header: Buffer
  /** What follows the header: the user data proper. */
  body: Buffer
  concat?: ConcatInfo
}

const IEI_CONCAT_8BIT = 0x00
const IEI_CONCAT_16BIT = 0x08

/**
 * Splits a user data header (present when esm_class has 0x40) from the body and reads its
 * concatenation element. Returns null when the header overruns the data or an element
 * overruns the header: a malformed UDH.
 */
export function splitUdh(data: Buffer): SplitUdh | null {
  if (data.length === 0) return null
  const headerLength = data[0] + 1
  if (headerLength > data.length) return null
  const header = data.subarray(0, headerLength)
  let concat: ConcatInfo | undefined
  for (let at = 1; at < headerLength;) {
    if (at + 2 > headerLength) return null
    const iei = data[at]
    const length = data[at + 1]
    const value = data.subarray(at + 2, at + 2 + length)
    if (at + 2 + length > headerLength) return null
    if (iei === IEI_CONCAT_8BIT && length === 3) {
      concat = { ref: value[0], total: value[1], seq: value[2] }
    } else if (iei === IEI_CONCAT_16BIT && length === 4) {
      concat = { ref: value.readUInt16BE(0), total: value[2], seq: value[3] }
    }
    at += 2 + length
  }
  return { header, body: data.subarray(headerLength), concat }
}

/** The 6-octet header with an 8-bit reference, the form most senders use. */
export function concatUdh({ ref, total, seq }: ConcatInfo): Buffer {
  return Buffer.from([0x05, IEI_CONCAT_8BIT, 0x03, ref & 0xff, total, seq])
}
