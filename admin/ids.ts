/** Ids in URLs and forms: a positive integer written plainly, nothing else ("01", "1e3", "-1"). */
export function parseId(value: string | undefined | null): number | null {
  if (!value || !/^[1-9]\d{0,9}$/.test(value)) return null
  const id = Number(value)
  return id <= 2_147_483_647 ? id : null
}
