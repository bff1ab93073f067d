/**
 * UCS-2 as SMSCs use it for SMPP data_coding 0x08: big-endian UTF-16 code units. Characters
 * beyond the BMP (emoji) travel as their surrogate pair; handsets put the pair back together.
 */

/** UTF-16BE octets of `text`, two per code unit, surrogate pairs included as they are. */
export function encodeUcs2(text: string): Buffer {
  // Node only writes UTF-16 little-endian; swapping each pair of octets gives big-endian.
  return Buffer.from(text, 'utf16le').swap16()
}

/**
 * Text of UTF-16BE octets. An odd trailing octet (a truncated payload from an SMSC) is dropped
 * instead of throwing, so a delivery receipt or MO message is still readable.
 */
export function decodeUcs2(bytes: Buffer): string {
  const even = bytes.length - (bytes.length % 2)
  // Copy first: swap16 works in place and the caller's buffer must stay as it was.
  return Buffer.from(bytes.subarray(0, even)).swap16().toString('utf16le')
}
