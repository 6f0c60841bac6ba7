/**
 * The sync history (Amplify's Data Sync History): newest first, with status,
 * completion, app, records and errors; filter by app and dates; "Show details"
 * opens the summary by record type and the statistics by school, whose numbers
 * open the records behind them; each sync's error report downloads as CSV.
 */
import { api, isAbort, queryString, reportUrl, type SyncRun } from './api.js'
import { alertBox, count, fill, h, timeEl } from './dom.js'
import { hrefOf, replaceHash } from './hash-route.js'
import { schoolsTable, summaryTable } from './counts-table.js'
import type { Session } from './session.js'

const STATUS_CLASS: Readonly<Record<string, string>> = {
  Completed: 'ok', 'Completed with Errors': 'warn', Failed: 'bad', Rejected: 'bad',
}

/** The outcomes a sync's Errors count sums (sync-semantics: skipped + invalid + excluded). */
const ERROR_OUTCOMES = ['Skipped', 'Invalid', 'Excluded']

const HISTORY_LIMIT = 500

export function renderSyncHistory(main: HTMLElement, params: URLSearchParams, _session: Session): () => void {
  const appSelect = h('select', { id: 'h-app' }, h('option', { value: '' }, 'All apps'))
  const fromInput = h('input', { id: 'h-from', type: 'date', value: params.get('from') ?? '' })
  const toInput = h('input', { id: 'h-to', type: 'date', value: params.get('to') ?? '' })
  const status = h('p', { role: 'status', id: 'history-status' }, 'Loading…')
  const errorSlot = h('div')
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
    const filters = { app: appSelect.value || wanted, from: fromInput.value, to: toInput.value }
    replaceHash(hrefOf('syncs', { ...filters, open }))
    status.textContent = 'Loading…'
    try {
      const { syncs } = await api.syncs(queryString({ ...filters, limit: String(HISTORY_LIMIT) }), mine.signal)
      if (mine.signal.aborted) return
      errorSlot.replaceChildren()
      for (const s of syncs) apps.add(s.app)
      drawApps(filters.app)
      tbody.replaceChildren(...syncs.flatMap((s) => syncRows(s)))
      status.textContent = syncs.length === 0 ? 'No syncs match.'
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
      replaceHash(hrefOf('syncs', { app: appSelect.value, from: fromInput.value, to: toInput.value, open }))
      if (expand && details.firstElementChild!.childElementCount === 0) void fillDetails(details.firstElementChild as HTMLElement, s, detailsId)
    }
    toggle.addEventListener('click', () => show(toggle.getAttribute('aria-expanded') !== 'true'))
    const syncLog = (extra: Record<string, string | string[]>): string => hrefOf('log', { sync: s.syncId, tenant: s.tenant, includeRejected: 'true', ...extra })
    const row = h('tr', { 'data-sync-id': s.syncId },
      h('td', {}, timeEl(s.startedAt)),
      h('td', {}, timeEl(s.endedAt, 'running')),
      h('td', {}, h('span', { class: `status ${STATUS_CLASS[s.status] ?? ''}` }, s.status), s.message === '' ? null : h('span', { class: 'status-message' }, s.message)),
      h('td', {}, s.tenant),
      h('td', {}, s.app),
      h('td', { class: 'num' }, s.total === 0 ? '0' : h('a', { href: syncLog({}), 'aria-label': `${count(s.total)} records: the log rows of this sync` }, count(s.total))),
      h('td', { class: 'num' }, s.errors === 0 ? '0' : h('a', { href: syncLog({ outcome: ERROR_OUTCOMES }), 'aria-label': `${count(s.errors)} errors: the error rows of this sync` }, count(s.errors))),
      h('td', { class: 'actions' }, toggle, ' ', h('a', { href: reportUrl(s.syncId), download: '' }, 'Error report (CSV)')))
    if (open === s.syncId) queueMicrotask(() => show(true))
    return [row, details]
  }

  const fillDetails = async (cell: HTMLElement, s: SyncRun, id: string): Promise<void> => {
    cell.replaceChildren(h('p', { role: 'status' }, 'Loading the summary…'))
    try {
      const summary = await api.summary(s.syncId)
      cell.replaceChildren(h('section', { id, class: 'details', 'aria-label': `Details of sync ${s.syncId}` },
        h('h2', {}, `Sync ${s.syncId}`),
        h('p', { class: 'hint' }, 'Every number opens the records behind it.', s.modes === '' ? '' : ` Modes: ${s.modes}.`),
        summaryTable('Summary by record type', s.syncId, summary.counts),
        schoolsTable(s.syncId, summary)))
    } catch (e) {
      cell.replaceChildren(alertBox((e as Error).message))
    }
  }

  for (const el of [appSelect, fromInput, toInput]) el.addEventListener('change', () => void load())

  fill(main,
    h('h1', { tabindex: -1 }, 'Sync history'),
    h('div', { class: 'filters' },
      h('fieldset', {},
        h('legend', {}, 'Filter'),
        h('div', { class: 'field' }, h('label', { for: 'h-app' }, 'App'), appSelect),
        h('div', { class: 'field' }, h('label', { for: 'h-from' }, 'From'), fromInput),
        h('div', { class: 'field' }, h('label', { for: 'h-to' }, 'To'), toInput))),
    status,
    errorSlot,
    h('div', { class: 'table-scroll', role: 'region', 'aria-label': 'Syncs', tabindex: 0 },
      h('table', { class: 'syncs' },
        h('caption', {}, 'Syncs'),
        h('thead', {}, h('tr', {}, ['Started', 'Completed', 'Status', 'District', 'App', 'Records', 'Errors', 'Details']
          .map((c) => h('th', { scope: 'col', class: c === 'Records' || c === 'Errors' ? 'num' : '' }, c)))),
        tbody)),
  )
  void load()
  return () => controller?.abort()
}
