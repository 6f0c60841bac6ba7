/** The page: signs in, then shows the view the URL's hash names, and follows the hash. */
import { api, whenSignedOut, type Me } from './api.js'
import { alertBox, h } from './dom.js'
import { currentRoute, type View } from './hash-route.js'
import { renderDrillDown } from './drill-down-view.js'
import { renderRoster } from './roster-view.js'
import { renderCompare } from './compare-view.js'
import { REVIEWS_CHANGED, ReviewBanner } from './review-banner.js'
import type { Session } from './session.js'
import { renderSignIn } from './sign-in-view.js'
import { useTimeZones } from './local-times.js'
import { renderSyncHistory } from './sync-history-view.js'
import { renderSyncLog } from './sync-log-view.js'

const VIEWS: Readonly<Record<View, (main: HTMLElement, params: URLSearchParams, session: Session) => () => void>> = {
  syncs: renderSyncHistory,
  log: renderSyncLog,
  drill: renderDrillDown,
  roster: renderRoster,
  compare: renderCompare,
}

const TITLES: Readonly<Record<View, string>> = {
  syncs: 'Sync history',
  log: 'Sync log',
  drill: 'Records behind a count',
  roster: 'Rosters in time',
  compare: 'Compare two syncs',
}

const main = document.getElementById('main')!
const nav = document.getElementById('nav')!
const account = document.getElementById('account')!
const accountName = document.getElementById('account-name')!
const signOutButton = document.getElementById('sign-out')!
const reviews = new ReviewBanner(document.getElementById('reviews')!)

let session: Session | null = null
let cleanup: (() => void) | undefined

function describeScope(me: Me): string {
  const { tenant, school } = me.scope
  if (tenant === undefined) return 'every district'
  if (school === undefined) return tenant
  return `${tenant}, school ${school.id}${school.side === 'either' ? '' : ` (${school.side} side)`}`
}

function show(moveFocus: boolean): void {
  cleanup?.()
  cleanup = undefined
  if (session === null) return
  const route = currentRoute()
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset['view'] === route.view || (route.view === 'drill' && link.dataset['view'] === 'syncs'))
      link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  document.title = `${TITLES[route.view]} · synclog`
  reviews.refresh(session)
  cleanup = VIEWS[route.view](main, route.params, session)
  if (moveFocus) main.querySelector<HTMLElement>('h1')?.focus()
}

function signedIn(me: Me, moveFocus: boolean): void {
  session = { me }
  useTimeZones(me.timeZones)
  accountName.replaceChildren('Signed in as ', h('strong', {}, me.name), ` · ${describeScope(me)}`)
  account.hidden = false
  nav.hidden = false
  show(moveFocus)
}

function signedOut(reason?: string): void {
  cleanup?.()
  cleanup = undefined
  session = null
  reviews.clear()
  account.hidden = true
  nav.hidden = true
  document.title = 'Sign in · synclog'
  renderSignIn(main, (me) => signedIn(me, true), reason)
}

whenSignedOut(() => {
  if (session !== null) signedOut('Your session ended (the token was revoked or the session expired). Sign in again.')
})

signOutButton.addEventListener('click', () => {
  api.signOut().then(
    () => signedOut(),
    (e: unknown) => main.prepend(alertBox((e as Error).message)),
  )
})

window.addEventListener('hashchange', () => show(true))
window.addEventListener(REVIEWS_CHANGED, () => {
  if (session !== null) reviews.refresh(session)
})

api.me().then(
  (me) => signedIn(me, false),
  (e: unknown) => {
    if ((e as { status?: number }).status === 401) signedOut()
    else main.replaceChildren(alertBox(`The server could not be reached: ${(e as Error).message}`))
  },
)
