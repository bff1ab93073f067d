/** Part numbers as a sentence lists them: "2", "1 et 3", "1, 2 et 4" (French) or "… and …". */
export function partNumberList(parts: readonly number[], lang: 'fr' | 'en'): string {
  const words = parts.map(String)
  if (words.length <= 1) return words.join('')
  const and = lang === 'fr' ? 'et' : 'and'
  return `${words.slice(0, -1).join(', ')} ${and} ${words[words.length - 1]}`
}
