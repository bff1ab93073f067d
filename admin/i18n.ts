import type { Lang } from './env'

export const LANGS: Lang[] = ['fr', 'en']

/**
 * The page's language: the one the person chose (cookie), else the first of Accept-Language we
 * speak, else French, the guide's language.
 */
export function chooseLang(chosen: string | undefined, acceptLanguage: string | undefined): Lang {
  if (chosen === 'fr' || chosen === 'en') return chosen
  const wanted = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().toLowerCase().split(';')
      const q = params.find((p) => p.trim().startsWith('q='))
      return { lang: tag.split('-')[0], q: q ? Number(q.trim().slice(2)) : 1 }
    })
    .filter((w) => w.lang && w.q > 0)
    .sort((a, b) => b.q - a.q)
  for (const w of wanted) if (w.lang === 'fr' || w.lang === 'en') return w.lang
  return 'fr'
}

/**
 * Each module keeps its own labels in both languages; the English object must have the same
 * keys as the French one, which the type checks.
 */
export function defineMessages<T extends Record<string, string | ((...args: never[]) => string)>>(
  fr: T,
  en: { [K in keyof T]: T[K] },
): (lang: Lang) => T {
  return (lang) => (lang === 'en' ? en : fr)
}
