/**
 * The closing words people put above their name. A line is a sign-off only when it is one of
 * these phrases on its own (give or take punctuation and a name: "Thanks!", "Cheers, Anna"),
 * or one of them carried on to a comma ("Thanks again for everything,"): "Thanks for the
 * update." or "Merci de me rappeler" are sentences of the message, not sign-offs.
 */

// Lowercase, after mapTypography (so ’ is '). Longest first where one starts another, so that
// "merci d'avance" is tried before "merci".
const PHRASES = [
  // English
  'thank you very much',
  'thanks in advance',
  'thanks very much',
  'thanks so much',
  'thanks again',
  'thanks a lot',
  'thanks a ton',
  'thank you',
  'many thanks',
  'with thanks',
  'thanks',
  'thx',
  'tia',
  'warmest regards',
  'warm regards',
  'kind regards',
  'kindest regards',
  'best regards',
  'with regards',
  'regards',
  'best wishes',
  'all the best',
  'all best',
  'best',
  'cheers',
  'yours sincerely',
  'sincerely yours',
  'sincerely',
  'yours truly',
  'yours faithfully',
  'yours',
  'cordially',
  'respectfully',
  'take care',
  'talk soon',
  'speak soon',
  'see you soon',
  'see you',
  'at your service',
  'have a nice day',
  'have a good day',
  'have a great day',
  'have a good weekend',
  'have a great weekend',
  'with love',
  'love',
  'br',
  // French
  'merci beaucoup',
  "merci d'avance",
  'merci par avance',
  'merci encore',
  'merci à vous',
  'merci à toi',
  'mille mercis',
  'merci',
  'bien cordialement',
  'très cordialement',
  'cordialement',
  'cdlt',
  'bien à vous',
  'bien à toi',
  'sincères salutations',
  'meilleures salutations',
  'salutations distinguées',
  'salutations',
  'sincèrement',
  'bien amicalement',
  'amicalement',
  'amitiés',
  'grosses bises',
  'bises',
  'bisous',
  'à bientôt',
  'a bientôt',
  'à plus tard',
  'à plus',
  'bonne fin de journée',
  'bonne journée',
  'belle journée',
  'bonne soirée',
  'bonne semaine',
  'bon week-end',
  'bon weekend',
  'respectueusement',
  // German
  'mit freundlichen grüßen',
  'mit freundlichen grüssen',
  'freundliche grüße',
  'viele grüße',
  'beste grüße',
  'liebe grüße',
  'herzliche grüße',
  'schöne grüße',
  'grüße',
  'gruß',
  'vielen dank',
  'danke schön',
  'dankeschön',
  'danke',
  'mfg',
  'bis bald',
  // Spanish
  'muchas gracias',
  'gracias',
  'saludos cordiales',
  'un saludo',
  'saludos',
  'atentamente',
  'cordialmente',
  'un abrazo',
  'abrazos',
  'hasta pronto',
  // Italian
  'grazie mille',
  'grazie',
  'cordiali saluti',
  'distinti saluti',
  'un saluto',
  'saluti',
  'a presto',
  'buona giornata',
  // Portuguese
  'muito obrigado',
  'muito obrigada',
  'obrigado',
  'obrigada',
  'atenciosamente',
  'um abraço',
  'abraços',
  'cumprimentos',
  // Dutch
  'met vriendelijke groeten',
  'met vriendelijke groet',
  'vriendelijke groeten',
  'hartelijke groeten',
  'groetjes',
  'groeten',
  'dank je wel',
  'dank u wel',
  'dank je',
  'dank u',
  'bedankt',
  'mvg',
].sort((a, b) => b.length - a.length)

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

// The phrase must end at a word boundary: "best" is not "bestseller", "merci" not "mercier".
const PHRASE = new RegExp(`^(?:${PHRASES.map(escape).join('|')})(?![\\p{L}\\p{N}])`, 'u')
const ONLY_PUNCTUATION = /^[\s,.!:;()\-=*~^]*$/
// "Cheers, Anna", "Merci Jean-Marc", "Thanks! Bob": at most three capitalised words.
const NAME_AFTER = /^[\s,!.-]+\p{Lu}[\p{L}'-]*(?: \p{Lu}[\p{L}'.-]*){0,2}[\s,!.]*$/u
// "Thanks again for all your help,": the phrase carried on, ending like a sign-off.
const CARRIED_TO_COMMA = /^ [^.!?]{0,40},$/
const LONGEST_SIGN_OFF = 60

/**
 * `folded` is the line after mapTypography and trim, lowercased; `line` the same with its case,
 * for the name after the phrase.
 */
export function isSignOff(line: string, folded: string): boolean {
  if (folded.length > LONGEST_SIGN_OFF) return false
  const phrase = PHRASE.exec(folded)
  if (!phrase) return false
  const rest = folded.slice(phrase[0].length)
  return (
    ONLY_PUNCTUATION.test(rest) ||
    NAME_AFTER.test(line.slice(phrase[0].length)) ||
    CARRIED_TO_COMMA.test(rest)
  )
}
