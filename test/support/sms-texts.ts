/**
 * A French text of 150 characters whose ê, ç, À and ô make it UCS-2: three parts of 67. With
 * those four letters folded it is one GSM-7 SMS of 160. Shared by the unit, MX, admin and
 * browser tests of the "stay in GSM" setting, so they all prove the same saving.
 */
export const FRENCH_150 =
  "Bonjour, votre fenêtre est prête: le maçon passe à 14h pour la pose. Merci de laisser l'accès libre et de prévoir une prise électrique. À très bientôt"

/** FRENCH_150 as the gateway sends it for an account that stays in GSM. */
export const FRENCH_150_IN_GSM =
  "Bonjour, votre fenetre est prete: le macon passe à 14h pour la pose. Merci de laisser l'accès libre et de prévoir une prise électrique. A très bientot"
