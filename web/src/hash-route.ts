/** The page's state lives in the URL's hash: `#/log?contains.studentName=smi&school=107`, so a view can be bookmarked and shared. */
import { queryString } from './api.js'

export type View = 'syncs' | 'log' | 'drill' | 'roster' | 'compare'

export interface Route {
  view: View
  params: URLSearchParams
}

export function currentRoute(): Route {
  const hash = window.location.hash.replace(/^#\/?/, '')
  const q = hash.indexOf('?')
  const path = q === -1 ? hash : hash.slice(0, q)
  const params = new URLSearchParams(q === -1 ? '' : hash.slice(q + 1))
  const view: View = (['log', 'drill', 'roster', 'compare'] as const).find((v) => v === path) ?? 'syncs'
  return { view, params }
}

/** The hash of a view with its parameters (empty values left out, arrays repeated). */
export function hrefOf(view: View, params: Record<string, string | readonly string[] | undefined>): string {
  return `#/${view}${queryString(params)}`
}

/** Records the current filters in the URL without adding a history entry per keystroke. */
export function replaceHash(href: string): void {
  if (window.location.hash !== href) window.history.replaceState(null, '', href)
}
