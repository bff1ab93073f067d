/**
 * Lines that software, not the sender, adds at the end of a message: the "Sent from my iPhone"
 * of mobile clients and carriers, and the footer a mailing list appends to every post. Both
 * are matched only at the end of the text and worded narrowly, because "Sent from the office"
 * in a real sentence is text to keep.
 */

// Matched against a line after mapTypography, spacing folded, lowercased.
const CLIENT_FOOTERS = [
  // "Sent from my iPhone", "Sent from my Verizon Wireless BlackBerry", "Envoyé de mon iPad"
  /^(sent|envoyé) (from|de|depuis) (my|mon|ma) \S.{0,40}$/,
  // "Sent wirelessly from my BlackBerry device on the … network."
  /^sent (wirelessly|remotely) (from|via|by) my \S.{0,60}$/,
  // Apps and webmails that sign for the sender.
  /^(sent from|sent with|sent via|sent using|envoyé à partir de|envoyé depuis|envoyé de|envoyé avec|envoyé via) (outlook|yahoo|gmail|proton ?mail|samsung|blackberry|windows mail|mail (for|pour) windows|courrier pour windows|mailbox|spark|airmail|bluemail|aquamail|edison|newton|polymail|superhuman|aol|icloud|zoho|tutanota|fairemail|k-9|sparrow)\b.{0,80}$/,
  // Phone makers and carriers: "Sent via the Samsung Galaxy …, an AT&T 4G LTE smartphone".
  /^sent (from|via|with|using|on) (the |my |a |an )?(samsung|galaxy|htc|huawei|xiaomi|sony|lg|nokia|motorola|pixel|oneplus|android|iphone|ipad|blackberry|t-mobile|at&t|verizon|sprint)\b.{0,80}$/,
  /^(sent )?(via|from) (my )?(mobile|phone|cell|cellphone|smartphone|tablet|iphone|ipad|android)[.!]?$/,
  // Carriers' mail-from-SMS services: "Sent via … Text Messaging service." and its French twin.
  /^sent (via|from|with|using) .{1,60} (text messaging|messaging|sms|mms|mobile email) service\b.{0,40}$/,
  /^envoyé (par|via|depuis) le service de messagerie\b.{0,80}$/,
  /^(get|download|télécharger|obtenir) outlook (for|pour) (ios|android)\b.{0,80}$/,
  /^provenance ?: courrier pour windows\b.{0,80}$/,
  // "Envoyé sans fil par mon terminal mobile BlackBerry sur le réseau de …"
  /^envoyé (sans fil )?(par|de|depuis|à partir de) (mon|ma) (iphone|ipad|android|mobile|smartphone|téléphone|portable|tablette|terminal|appareil|blackberry|samsung|galaxy|huawei)\b.{0,80}$/,
  // Spanish and Portuguese: "Enviado desde mi iPhone", "Enviado do meu celular".
  /^enviado (desde|de) (mi) \S.{0,60}$/,
  /^enviado desde (outlook|yahoo|gmail|samsung|huawei|blackberry|correo)\b.{0,60}$/,
  /^enviado (do|da|de) (meu|minha) \S.{0,60}$/,
  // Italian: "Inviato da iPhone", "Inviato dal mio smartphone Samsung".
  /^inviato (da|dal|dalla|con) (il mio |mio |la mia |mia )?(iphone|ipad|android|smartphone|cellulare|telefono|dispositivo|samsung|galaxy|huawei|xiaomi|blackberry|outlook|yahoo|gmail|libero|posta)\b.{0,60}$/,
  // German: "Von meinem iPhone gesendet", "Gesendet von meinem Samsung Galaxy".
  /^von meinem \S.{0,40} gesendet$/,
  /^gesendet (von|mit|vom|über) (meinem |mein )?(iphone|ipad|android|samsung|galaxy|handy|smartphone|mobilgerät|blackberry|outlook|yahoo|gmail|gmx|web\.de|mail für windows)\b.{0,60}$/,
  // Dutch: "Verzonden vanaf mijn iPhone", "Verstuurd met Outlook".
  /^(verzonden|verstuurd) (vanaf|van|met|via) (mijn )?(iphone|ipad|android|samsung|galaxy|smartphone|telefoon|mobiel|blackberry|outlook|yahoo|gmail|mail voor windows)\b.{0,60}$/,
]

const LONGEST_CLIENT_FOOTER = 120

/** `folded`: the line after mapTypography, spacing folded, lowercased. */
export function isClientFooter(folded: string): boolean {
  return folded.length <= LONGEST_CLIENT_FOOTER && CLIENT_FOOTERS.some((f) => f.test(folded))
}

// The rule a list puts above its footer (Mailman's underscores, Apache's dashes).
const LIST_FOOTER_RULE = /^(_{5,}|-{5,}|={5,}|\*{5,})$/
const LIST_FOOTER_WORDS =
  /mailing list|listinfo|mailman|unsubscribe|googlegroups|liste de diffusion|désabonn|désinscri|abmelden|darse de baja/
// A footer is a few lines: a rule with a page of text below is a section of the message.
const LIST_FOOTER_LINES = 6
const LONGEST_LIST_FOOTER_LINE = 200

export function isListFooterRule(folded: string): boolean {
  return folded.length <= LONGEST_LIST_FOOTER_LINE && LIST_FOOTER_RULE.test(folded)
}

/**
 * Where a mailing list's footer starts in `folded` (the message's last non-blank lines, folded,
 * in order), or -1: a rule, then at most a few lines, one of them naming the list or how to
 * leave it.
 */
export function listFooterStart(folded: string[]): number {
  for (let i = Math.max(0, folded.length - LIST_FOOTER_LINES - 1); i < folded.length; i++) {
    if (!isListFooterRule(folded[i])) continue
    const below = folded.slice(i + 1)
    if (
      below.length > 0 &&
      below.every((line) => line.length <= LONGEST_LIST_FOOTER_LINE) &&
      below.some((line) => LIST_FOOTER_WORDS.test(line))
    ) {
      return i
    }
  }
  return -1
}
