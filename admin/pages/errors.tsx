import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AdminEnv, Lang } from '../env'
import { chooseLang } from '../i18n'
import { MessageBody, renderPage } from './render'

type Known = 400 | 401 | 403 | 404 | 405 | 410 | 413 | 429 | 500
type Texts = Record<Known | 'home' | 'login', [string, string]>

const FR: Texts = {
  400: ['Requête incorrecte', 'La demande est incomplète ou mal formée.'],
  401: ['Connexion nécessaire', 'Votre session a expiré ou vous n’êtes pas connecté.'],
  403: [
    'Requête refusée',
    'Ce formulaire doit être envoyé depuis les pages de l’administration. Rechargez la page et réessayez.',
  ],
  404: ['Page introuvable', 'Cette page n’existe pas, ou vous n’y avez pas accès.'],
  405: ['Méthode non permise', 'Cette adresse ne s’utilise pas ainsi.'],
  410: ['Page expirée', 'Cette page n’est plus disponible.'],
  413: ['Envoi trop volumineux', 'Le formulaire envoyé est trop grand.'],
  429: ['Trop de demandes', 'Patientez un moment avant de réessayer.'],
  500: [
    'Erreur du serveur',
    'Une erreur inattendue s’est produite. Réessayez dans un instant ; si elle persiste, prévenez l’opérateur du service.',
  ],
  home: ['Accueil', ''],
  login: ['Se connecter', ''],
}

const EN: Texts = {
  400: ['Bad request', 'The request is incomplete or malformed.'],
  401: ['Login needed', 'Your session has expired or you are not logged in.'],
  403: [
    'Request refused',
    'This form must be sent from the admin’s own pages. Reload the page and try again.',
  ],
  404: ['Page not found', 'This page does not exist, or you have no access to it.'],
  405: ['Method not allowed', 'This address is not used that way.'],
  410: ['Page expired', 'This page is no longer available.'],
  413: ['Request too large', 'The form sent is too large.'],
  429: ['Too many requests', 'Wait a moment before trying again.'],
  500: [
    'Server error',
    'Something unexpected went wrong. Try again in a moment; if it persists, tell the service’s operator.',
  ],
  home: ['Home', ''],
  login: ['Log in', ''],
}

function langOf(c: Context<AdminEnv>): Lang {
  const chosen = (c.var as Partial<AdminEnv['Variables']>).lang
  return chosen ?? chooseLang(undefined, c.req.header('accept-language'))
}

/** The admin's error page for a status; the text never carries details of the failure. */
export function errorPage(
  c: Context<AdminEnv>,
  status: ContentfulStatusCode,
): Response | Promise<Response> {
  const m = langOf(c) === 'en' ? EN : FR
  const known = (status in m ? status : status >= 500 ? 500 : 400) as Known
  const [title, text] = m[known]
  const loggedIn = Boolean((c.var as Partial<AdminEnv['Variables']>).admin)
  return renderPage(
    c,
    status,
    { title },
    <MessageBody text={text}>
      <p>
        {status === 401 && !loggedIn ? (
          <a href="/login">{m.login[0]}</a>
        ) : (
          <a href="/">{m.home[0]}</a>
        )}
      </p>
    </MessageBody>,
  )
}
