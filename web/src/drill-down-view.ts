/** The records behind one count of a sync's summary, with their messages, and why some counted records have no row. */
import { OUTCOMES, type Outcome } from '../../src/events/sync-log-event.js'
import { api, queryString } from './api.js'
import { alertBox, count, fill, h } from './dom.js'
import { hrefOf } from './hash-route.js'
import { DRILL_COLUMNS, LogTable, type PagerState } from './log-table.js'
import type { Session } from './session.js'

function countName(outcomes: readonly string[]): string {
  if (outcomes.length === 0) return 'All'
  if (outcomes.length === 2 && outcomes.includes('Merged') && outcomes.includes('Excluded')) return 'Duplicate'
  return outcomes.join(' or ')
}

export function renderDrillDown(main: HTMLElement, params: URLSearchParams, _session: Session): () => void {
  const syncId = params.get('sync') ?? ''
  const entity = params.get('entity') ?? ''
  const outcomes = params.getAll('outcome').filter((o): o is Outcome => (OUTCOMES as readonly string[]).includes(o))
  const school = params.get('school') ?? undefined
  const where =
    school === undefined ? 'every school' : school === '(district)' || school === '' ? 'district-level records' : `school ${school}`

  const status = h('p', { role: 'status', id: 'drill-status' }, 'Loading…')
  const note = h('p', { class: 'note', hidden: true })
  const errorSlot = h('div')
  let counted: number | null = null
  let pager: PagerState = { shown: 0, more: false, loading: true }
  const show = (): void => {
    if (pager.error !== undefined) {
      status.textContent = 'The records could not be read.'
      errorSlot.replaceChildren(alertBox(pager.error))
      return
    }
    // Nothing is "0 shown" before the first page has answered.
    if (pager.loading && pager.shown === 0) {
      status.textContent = 'Loading…'
      return
    }
    const total = counted === null ? '' : `${count(counted)} counted · `
    status.textContent = `${total}${count(pager.shown)} shown${pager.more ? ' (scroll for more)' : ''}`
  }
  const table = new LogTable(
    'Records behind the count',
    (state) => {
      pager = state
      show()
    },
    { columns: DRILL_COLUMNS },
  )
  const q = { entity, outcome: outcomes, school }
  void table.reset(async (cursor, signal) => {
    const page = await api.drillDown(syncId, queryString({ ...q, limit: '100', ...(cursor === null ? {} : { cursor }) }), signal)
    counted = page.count
    note.textContent = page.note
    note.hidden = page.note === ''
    return page
  })

  fill(
    main,
    h('p', { class: 'breadcrumb' }, h('a', { href: hrefOf('syncs', { open: syncId }) }, 'Back to sync history')),
    h('h1', { tabindex: -1 }, `${countName(outcomes)} ${entity} records`),
    h('p', { class: 'intro' }, `Sync ${syncId}, ${where}.`),
    status,
    note,
    errorSlot,
    table.element,
  )
  return () => table.dispose()
}
