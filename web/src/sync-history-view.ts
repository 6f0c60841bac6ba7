/**
 * The sync history (Amplify's Data Sync History): newest first, with status,
 * completion, app, records and errors; filter by app and dates; "Show details"
 * opens the summary by record type and the statistics by school, whose numbers
 * open the records behind them; each sync's error report downloads as CSV.
 */
import { AWAITING_REVIEW, SYNC_STATUSES, type SyncStatus } from '../../src/events/sync-log-event.js'
import { api, isAbort, queryString, reportUrl, type SyncRun } from './api.js'
import { compareHref } from './compare-view.js'
import { alertBox, count, fill, h, timeEl } from './dom.js'
import { hrefOf, replaceHash } from './hash-route.js'
import { schoolsTable, summaryTable } from './counts-table.js'
import { REVIEWS_CHANGED, isAwaitingReview } from './review-banner.js'
import type { Session } from './session.js'
import { causeGroupsSection } from './cause-groups-view.js'

/** The badge of each status: waiting for review (a warning), failed or rejected (an error), or done. */
const STATUS_CLASS: Readonly<Record<SyncStatus, string>> = {
  Running: 'running',
  Completed: 'ok',
  'Completed with Errors': 'warn',
  'On Hold': 'review',
  Preview: 'review',
  Failed: 'bad',
  Rejected: 'bad',
}

/** The status filter's choices: every status, or the syncs waiting for review (the banner's link). */
const STATUS_CHOICES: readonly (readonly [label: string, statuses: readonly SyncStatus[]])[] = [
  ['All statuses', []],
  ['Waiting for review (On Hold, Preview)', AWAITING_REVIEW],
  ...SYNC_STATUSES.map((s) => [s, [s]] as const),
]

/** The message a decision leaves on a sync ("approved by token registrar"), which the decision line replaces. */
const DECIDED_MESSAGE = /^(approved|rejected) by /i

/** The outcomes a sync's Errors count sums (sync-semantics: skipped + invalid + excluded). */
const ERROR_OUTCOMES = ['Skipped', 'Invalid', 'Excluded']

const HISTORY_LIMIT = 500

export function renderSyncHistory(main: HTMLElement, params: URLSearchParams, session: Session): () => void {
  const canReview = session.me.permissions.includes('review')
  const appSelect = h('select', { id: 'h-app' }, h('option', { value: '' }, 'All apps'))
  const fromInput = h('input', { id: 'h-from', type: 'date', value: params.get('from') ?? '' })
  const toInput = h('input', { id: 'h-to', type: 'date', value: params.get('to') ?? '' })
  const statusSelect = h(
    'select',
    { id: 'h-status' },
    STATUS_CHOICES.map(([label, statuses]) => h('option', { value: statuses.join(',') }, label)),
  )
  statusSelect.value = params.getAll('status').join(',')
  if (statusSelect.selectedIndex === -1) statusSelect.value = ''
  const statuses = (): string[] => (statusSelect.value === '' ? [] : statusSelect.value.split(','))
  const status = h('p', { role: 'status', id: 'history-status' }, 'Loading…')
  const errorSlot = h('div')
  // Decisions are announced here, apart from the list's own status, which the reload after a decision rewrites.
  const decisionStatus = h('p', { role: 'status', id: 'decision-status', tabindex: -1 })
  const tbody = h('tbody')
  const apps = new Set<string>()
  let wanted = params.get('app') ?? ''
  let open = params.get('open') ?? ''
  if (wanted !== '') apps.add(wanted)

  let controller: AbortController | undefined
  const load = async (): Promise<void> => {
    controller?.abort()
    const mine = new AbortController()
    controller = mine
    const filters = { app: appSelect.value || wanted, from: fromInput.value, to: toInput.value, status: statuses() }
    replaceHash(hrefOf('syncs', { ...filters, open }))
    status.textContent = 'Loading…'
    try {
      const { syncs } = await api.syncs(queryString({ ...filters, limit: String(HISTORY_LIMIT) }), mine.signal)
      if (mine.signal.aborted) return
      errorSlot.replaceChildren()
      for (const s of syncs) apps.add(s.app)
      drawApps(filters.app)
      tbody.replaceChildren(...syncs.flatMap((s) => syncRows(s)))
      status.textContent =
        syncs.length === 0
          ? 'No syncs match.'
          : `${count(syncs.length)} sync${syncs.length === 1 ? '' : 's'}${syncs.length === HISTORY_LIMIT ? ` (the newest ${HISTORY_LIMIT}; narrow the dates to see older ones)` : ''}`
    } catch (e) {
      if (isAbort(e)) return
      status.textContent = 'The sync history could not be read.'
      errorSlot.replaceChildren(alertBox((e as Error).message))
    }
  }

  const drawApps = (selected: string): void => {
    appSelect.replaceChildren(h('option', { value: '' }, 'All apps'), ...[...apps].sort().map((a) => h('option', { value: a }, a)))
    appSelect.value = selected
    wanted = ''
  }

  const syncRows = (s: SyncRun): HTMLTableRowElement[] => {
    const detailsId = `details-${s.tenant}-${s.syncId}`.replace(/[^A-Za-z0-9_-]/g, '_')
    const details = h('tr', { class: 'sync-details', hidden: true }, h('td', { colspan: 8 }))
    const toggle = h('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': detailsId }, 'Show details')
    const show = (expand: boolean): void => {
      toggle.setAttribute('aria-expanded', String(expand))
      details.hidden = !expand
      open = expand ? s.syncId : open === s.syncId ? '' : open
      replaceHash(hrefOf('syncs', { app: appSelect.value, from: fromInput.value, to: toInput.value, status: statuses(), open }))
      if (expand && details.firstElementChild!.childElementCount === 0)
        void fillDetails(details.firstElementChild as HTMLElement, s, detailsId)
    }
    toggle.addEventListener('click', () => show(toggle.getAttribute('aria-expanded') !== 'true'))
    const waiting = isAwaitingReview(s)
    // A sync's rows whatever became of it: rejected ones, and the proposal of one waiting for review.
    const syncLog = (extra: Record<string, string | string[]>): string =>
      hrefOf('log', {
        sync: s.syncId,
        tenant: s.tenant,
        ...(waiting ? { includeProposed: 'true' } : { includeRejected: 'true' }),
        ...extra,
      })
    const row = h(
      'tr',
      { 'data-sync-id': s.syncId, class: waiting ? 'awaiting-review' : null },
      h('td', {}, timeEl(s.startedAt, s.tenant)),
      h('td', {}, waiting ? h('span', { class: 'pending' }, 'not until decided') : timeEl(s.endedAt, s.tenant, 'running')),
      h(
        'td',
        {},
        h('span', { class: `status badge ${STATUS_CLASS[s.status]}` }, s.status),
        // Once decided, the decision line says who did it (and when and why) in place of the message's "approved by …".
        s.message === '' || (s.reviewedBy !== '' && DECIDED_MESSAGE.test(s.message))
          ? null
          : h('span', { class: 'status-message' }, s.message),
        decisionNote(s),
        canReview && waiting ? decisionControls(s) : null,
      ),
      h('td', {}, s.tenant),
      h('td', {}, s.app),
      h(
        'td',
        { class: 'num' },
        s.total === 0
          ? '0'
          : h(
              'a',
              { href: syncLog({}), 'aria-label': `${count(s.total)} records: the ${waiting ? 'proposed ' : ''}log rows of this sync` },
              count(s.total),
            ),
      ),
      h(
        'td',
        { class: 'num' },
        s.errors === 0
          ? '0'
          : h(
              'a',
              { href: syncLog({ outcome: ERROR_OUTCOMES }), 'aria-label': `${count(s.errors)} records with errors: their rows in the log` },
              count(s.errors),
            ),
      ),
      h(
        'td',
        { class: 'actions' },
        toggle,
        ' ',
        h('a', { href: reportUrl(s.syncId), download: '' }, 'Error report (CSV)'),
        ' ',
        h(
          'a',
          { href: compareHref(s.syncId), 'aria-label': `Compare with previous: sync ${s.syncId} and the one before it` },
          'Compare with previous',
        ),
      ),
    )
    if (open === s.syncId) queueMicrotask(() => show(true))
    return [row, details]
  }

  /** Who decided a reviewed sync, when and why (nothing before a decision). */
  const decisionNote = (s: SyncRun): HTMLElement | null => {
    if (s.reviewedBy === '') return null
    return h(
      'p',
      { class: 'decision' },
      `${s.status === 'Rejected' ? 'Rejected' : 'Approved'} by `,
      h('strong', {}, s.reviewedBy),
      s.reviewedAt === '' ? null : [' on ', timeEl(s.reviewedAt, s.tenant)],
      s.reviewReason === '' ? null : [': ', h('q', { class: 'reason' }, s.reviewReason)],
    )
  }

  /** Approve and Reject, each asking to confirm with a reason first; the sync's new status is announced, then the list and the banner reload. */
  const decisionControls = (s: SyncRun): HTMLElement => {
    const box = h('div', { class: 'decide' })
    const choices = (focus?: 'approve' | 'reject'): void => {
      const approve = h('button', { type: 'button', 'aria-label': `Approve sync ${s.syncId}` }, 'Approve')
      const reject = h('button', { type: 'button', class: 'secondary', 'aria-label': `Reject sync ${s.syncId}` }, 'Reject')
      approve.addEventListener('click', () => ask('approve'))
      reject.addEventListener('click', () => ask('reject'))
      box.replaceChildren(approve, reject)
      if (focus !== undefined) (focus === 'approve' ? approve : reject).focus()
    }
    const ask = (decision: 'approve' | 'reject'): void => {
      const question =
        decision === 'approve'
          ? `Approve sync ${s.syncId}? Its changes are applied to ${s.tenant}'s roster.`
          : `Reject sync ${s.syncId}? Its changes are discarded; ${s.tenant}'s roster stays as before it.`
      const questionId = `${box.id}-question`
      const reasonId = `${box.id}-reason`
      const problemId = `${box.id}-problem`
      const reason = h('textarea', { id: reasonId, rows: 2, required: true, 'aria-describedby': `${questionId} ${reasonId}-hint` })
      const problem = h('p', { id: problemId, class: 'field-error', hidden: true }, 'Give a reason: it is recorded with the decision.')
      const yes = h('button', { type: 'button', 'aria-describedby': questionId }, decision === 'approve' ? 'Yes, approve' : 'Yes, reject')
      const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel')
      cancel.addEventListener('click', () => choices(decision))
      reason.addEventListener('input', () => {
        if (reason.value.trim() === '') return
        problem.hidden = true
        reason.removeAttribute('aria-invalid')
        reason.removeAttribute('aria-errormessage')
      })
      yes.addEventListener('click', () => {
        const text = reason.value.trim()
        if (text === '') {
          problem.hidden = false
          reason.setAttribute('aria-invalid', 'true')
          reason.setAttribute('aria-errormessage', problemId)
          reason.focus()
          return
        }
        void decide(decision, text, yes, cancel, reason)
      })
      box.replaceChildren(
        h(
          'div',
          { role: 'group', 'aria-label': `Confirm: ${decision} sync ${s.syncId}`, class: 'confirm' },
          h('p', { id: questionId }, question),
          h(
            'div',
            { class: 'field' },
            h('label', { for: reasonId }, 'Reason (required)'),
            reason,
            h('span', { id: `${reasonId}-hint`, class: 'hint' }, 'Recorded with the decision: who decided, when and why.'),
            problem,
          ),
          h('div', { class: 'confirm-buttons' }, yes, ' ', cancel),
        ),
      )
      reason.focus()
    }
    const decide = async (
      decision: 'approve' | 'reject',
      reason: string,
      ...controls: (HTMLButtonElement | HTMLTextAreaElement)[]
    ): Promise<void> => {
      for (const c of controls) c.disabled = true
      decisionStatus.textContent = `${decision === 'approve' ? 'Approving' : 'Rejecting'} sync ${s.syncId}…`
      try {
        const run = await api.decide(s.syncId, decision, reason)
        errorSlot.replaceChildren()
        decisionStatus.textContent = `Sync ${s.syncId} ${decision === 'approve' ? 'approved' : 'rejected'}: it is now ${run.status}.`
      } catch (e) {
        decisionStatus.textContent = `Sync ${s.syncId} was not ${decision === 'approve' ? 'approved' : 'rejected'}.`
        errorSlot.replaceChildren(alertBox((e as Error).message))
      }
      window.dispatchEvent(new Event(REVIEWS_CHANGED))
      // The row is redrawn with the new status (or whatever another reviewer made it); focus stays on the page, at the announcement.
      decisionStatus.focus()
      await load()
    }
    box.id = `decide-${s.tenant}-${s.syncId}`.replace(/[^A-Za-z0-9_-]/g, '_')
    choices()
    return box
  }

  const fillDetails = async (cell: HTMLElement, s: SyncRun, id: string): Promise<void> => {
    cell.replaceChildren(h('p', { role: 'status' }, 'Loading the summary…'))
    try {
      const summary = await api.summary(s.syncId)
      cell.replaceChildren(
        h(
          'section',
          { id, class: 'details', 'aria-label': `Details of sync ${s.syncId}` },
          h('h2', {}, `Sync ${s.syncId}`),
          h('p', { class: 'hint' }, 'Every number opens the records behind it.', s.modes === '' ? '' : ` Modes: ${s.modes}.`),
          summaryTable('Summary by record type', s.syncId, summary.counts),
          schoolsTable(s.syncId, summary),
          causeGroupsSection(s),
        ),
      )
    } catch (e) {
      cell.replaceChildren(alertBox((e as Error).message))
    }
  }

  for (const el of [appSelect, fromInput, toInput, statusSelect]) el.addEventListener('change', () => void load())

  fill(
    main,
    h('h1', { tabindex: -1 }, 'Sync history'),
    h(
      'div',
      { class: 'filters' },
      h(
        'fieldset',
        {},
        h('legend', {}, 'Filter'),
        h('div', { class: 'field' }, h('label', { for: 'h-app' }, 'App'), appSelect),
        h('div', { class: 'field' }, h('label', { for: 'h-from' }, 'From'), fromInput),
        h('div', { class: 'field' }, h('label', { for: 'h-to' }, 'To'), toInput),
        h('div', { class: 'field' }, h('label', { for: 'h-status' }, 'Status'), statusSelect),
      ),
    ),
    status,
    decisionStatus,
    errorSlot,
    h(
      'div',
      { class: 'table-scroll', role: 'region', 'aria-label': 'Syncs', tabindex: 0 },
      h(
        'table',
        { class: 'syncs' },
        h('caption', {}, 'Syncs'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Started', 'Completed', 'Status', 'District', 'App', 'Records', 'Errors', 'Details'].map((c) =>
              h('th', { scope: 'col', class: c === 'Records' || c === 'Errors' ? 'num' : '' }, c),
            ),
          ),
        ),
        tbody,
      ),
    ),
  )
  void load()
  return () => controller?.abort()
}
