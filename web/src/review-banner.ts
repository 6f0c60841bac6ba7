/**
 * The banner above every view while syncs wait for review (On Hold, or computed
 * as a preview): how many, a link to the sync history narrowed to them, and for a
 * single one a link straight to its proposed rows. A viewer is told who decides;
 * a reviewer's link leads to the Approve and Reject buttons.
 */
import { AWAITING_REVIEW } from '../../src/events/sync-log-event.js'
import { api, isAbort, queryString, type SyncRun } from './api.js'
import { count, h } from './dom.js'
import { hrefOf } from './hash-route.js'
import type { Session } from './session.js'

/** Pages may announce a decision with this window event; the banner counts again. */
export const REVIEWS_CHANGED = 'synclog:reviews-changed'

/** The sync history narrowed to the syncs waiting for review. */
const WAITING_HREF = hrefOf('syncs', { status: [...AWAITING_REVIEW] })

/** The proposed log rows of a sync waiting for review (the log hides them unless asked). */
function proposalHref(s: Pick<SyncRun, 'syncId' | 'tenant'>): string {
  return hrefOf('log', { sync: s.syncId, tenant: s.tenant, includeProposed: 'true' })
}

export function isAwaitingReview(s: Pick<SyncRun, 'status'>): boolean {
  return AWAITING_REVIEW.includes(s.status)
}

/** How many syncs the banner looks at; past it, the count says "or more". */
const WAITING_LIMIT = 200

export class ReviewBanner {
  private controller: AbortController | undefined

  constructor(private readonly element: HTMLElement) {}

  /** Counts the syncs waiting for review in the token's scope and redraws the banner (hidden when none). */
  refresh(session: Session): void {
    this.controller?.abort()
    const controller = new AbortController()
    this.controller = controller
    api.syncs(queryString({ status: [...AWAITING_REVIEW], limit: String(WAITING_LIMIT) }), controller.signal).then(
      ({ syncs }) => {
        if (!controller.signal.aborted) this.draw(syncs, session)
      },
      (e: unknown) => {
        // The banner is a hint; the views report read errors themselves.
        if (!isAbort(e)) this.clear()
      },
    )
  }

  clear(): void {
    this.controller?.abort()
    this.element.hidden = true
    this.element.replaceChildren()
  }

  private draw(syncs: readonly SyncRun[], session: Session): void {
    if (syncs.length === 0) {
      this.clear()
      return
    }
    const n = syncs.length === WAITING_LIMIT ? `${count(WAITING_LIMIT)} or more` : count(syncs.length)
    const text = `${n} sync${syncs.length === 1 ? '' : 's'} waiting for review`
    const canReview = session.me.permissions.includes('review')
    const only = syncs.length === 1 ? syncs[0]! : undefined
    this.element.replaceChildren(
      h(
        'p',
        { class: 'review-banner' },
        h('span', { class: 'badge review' }, 'Review'),
        ' ',
        h('a', { href: WAITING_HREF, class: 'review-link' }, text),
        `: ${only === undefined ? 'their' : 'its'} changes are not applied until ${canReview ? 'you approve' : 'a reviewer or operator approves'} ${only === undefined ? 'them' : 'it'}.`,
        only === undefined ? null : [' ', h('a', { href: proposalHref(only) }, `See the proposed rows of sync ${only.syncId}`)],
      ),
    )
    this.element.hidden = false
  }
}
