/** Items in groups of the same key, in the order each key was first seen. */
export function groupBy<K, V>(items: Iterable<V>, key: (v: V) => K): Map<K, V[]> {
  const groups = new Map<K, V[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group) group.push(item)
    else groups.set(k, [item])
  }
  return groups
}
