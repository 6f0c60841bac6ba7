/**
 * Two syncs side by side (`#/compare?a=<syncId>&b=<syncId>`): each data type's counts in
 * A, in B and B − A, then the records whose outcome differs. A record with no row in a
 * sync was No Change there or not in that sync: the page says "not logged". Given only
 * `b`, A is the sync of the same tenant started just before it (the sync history's
 * "Compare with previous").
 */
import { NOT_LOGGED, NOT_LOGGED_NOTE, type RecordComparison, type SyncComparison } from '../../src/clickhouse/sync-compare.js'
import { api, isAbort, queryString, type SyncRun } from './api.js'
import { COUNT_COLUMNS } from './counts-table.js'
import { alertBox, count, fill, h, timeEl } from './dom.js'
import { hrefOf, replaceHash } from './hash-route.js'
import { shownTime } from './local-times.js'
import type { Session } from './session.js'

/** The syncs offered in the pickers: the newest of the token's history. */
const PICKER_SYNCS = '200'
const RECORD_LIMIT = '1000'

/** The hash of the comparison of two syncs; without `a`, B against the sync before it. */
export function compareHref(b: string, a?: string): string {
  return hrefOf('compare', { a, b })
}

/** The sync of the same tenant started just before `syncId`, in a history listed newest first. */
function previousOf(runs: readonly SyncRun[], syncId: string): SyncRun | undefined {
  const i = runs.findIndex((r) => r.syncId === syncId)
  return i === -1 ? undefined : runs.slice(i + 1).find((r) => r.tenant === runs[i]!.tenant)
}

function syncOption(r: SyncRun, selected: string): HTMLOptionElement {
  return h(
    'option',
    { value: r.syncId, selected: r.syncId === selected },
    `${shownTime(r.startedAt, r.tenant)} · ${r.tenant} · ${r.status} · ${r.syncId}`,
  )
}

function outcomeCell(outcome: string | null): HTMLTableCellElement {
  return outcome === null ? h('td', { class: 'hint' }, NOT_LOGGED) : h('td', {}, outcome)
}

function recordRow(r: RecordComparison): HTMLTableRowElement {
  const messages = [r.messageA === '' ? '' : `A: ${r.messageA}`, r.messageB === '' ? '' : `B: ${r.messageB}`].filter((m) => m !== '')
  return h(
    'tr',
    {},
    h('td', {}, r.entity),
    h('td', {}, r.sourcedId),
    h('td', {}, r.studentNumber, r.studentName === '' ? '' : h('span', { class: 'hint' }, ` ${r.studentName}`)),
    h('td', {}, r.sectionNumber, r.courseNumber === '' ? '' : h('span', { class: 'hint' }, ` ${r.courseNumber}`)),
    outcomeCell(r.outcomeA),
    outcomeCell(r.outcomeB),
    h('td', {}, messages.join(' · ')),
  )
}

function countsTable(cmp: SyncComparison): HTMLElement {
  const line = (entity: string, side: string, c: Record<string, number>, diff: boolean): HTMLTableRowElement =>
    h(
      'tr',
      { class: diff ? 'difference' : '' },
      entity === '' ? h('td', {}) : h('th', { scope: 'row' }, entity),
      h('td', {}, side),
      COUNT_COLUMNS.map((col) => {
        const n = c[col.field] ?? 0
        return h('td', { class: 'num' }, diff && n > 0 ? `+${count(n)}` : count(n))
      }),
    )
  return h(
    'div',
    { class: 'table-scroll', role: 'region', 'aria-label': 'Counts of both syncs', tabindex: 0 },
    h(
      'table',
      { class: 'counts' },
      h('caption', {}, 'Counts of both syncs'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Data type'),
          h('th', { scope: 'col' }, 'Sync'),
          COUNT_COLUMNS.map((c) => h('th', { scope: 'col' }, c.header)),
        ),
      ),
      h(
        'tbody',
        {},
        cmp.counts.flatMap((c) => [
          line(c.entity, 'A', { ...c.a }, false),
          line('', 'B', { ...c.b }, false),
          line('', 'B − A', { ...c.difference }, true),
        ]),
      ),
    ),
  )
}

const RECORD_COLUMNS = ['Data type', 'Sourced ID', 'Student', 'Section', 'Outcome in A', 'Outcome in B', 'Messages']

export function renderCompare(main: HTMLElement, params: URLSearchParams, _session: Session): () => void {
  const pickA = h('select', { id: 'cmp-a', required: true })
  const pickB = h('select', { id: 'cmp-b', required: true })
  const status = h('p', { role: 'status', id: 'compare-status' }, 'Loading…')
  const errorSlot = h('div')
  const heads = h('div', { class: 'compare-syncs' })
  const result = h('div')
  let controller: AbortController | undefined

  async function load(a: string, b: string): Promise<void> {
    replaceHash(compareHref(b, a))
    controller?.abort()
    errorSlot.replaceChildren()
    result.replaceChildren()
    heads.replaceChildren()
    if (a === '' || b === '') {
      status.textContent = 'Choose two syncs of one district.'
      return
    }
    controller = new AbortController()
    status.textContent = 'Loading…'
    try {
      const cmp = await api.compare(a, b, queryString({ limit: RECORD_LIMIT }), controller.signal)
      const shown = cmp.records.length < cmp.differing ? ` (the first ${count(cmp.records.length)} listed)` : ''
      status.textContent =
        cmp.differing === 0
          ? 'No record has a different outcome in the two syncs.'
          : `${count(cmp.differing)} record${cmp.differing === 1 ? '' : 's'} with a different outcome${shown}.`
      heads.replaceChildren(
        ...(
          [
            ['A', cmp.a],
            ['B', cmp.b],
          ] as const
        ).map(([side, s]) =>
          h('p', {}, h('strong', {}, `${side}: `), `sync ${s.syncId} · ${s.app} · ${s.status} · started `, timeEl(s.startedAt, s.tenant)),
        ),
      )
      const parts: HTMLElement[] = [countsTable(cmp)]
      if (cmp.records.length > 0) {
        parts.push(
          h(
            'div',
            { class: 'table-scroll', role: 'region', 'aria-label': 'Records with a different outcome', tabindex: 0 },
            h(
              'table',
              { class: 'compare-records' },
              h('caption', {}, 'Records with a different outcome'),
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  RECORD_COLUMNS.map((c) => h('th', { scope: 'col' }, c)),
                ),
              ),
              h('tbody', {}, cmp.records.map(recordRow)),
            ),
          ),
          h('p', { class: 'note' }, `A record with no row in a sync is ${NOT_LOGGED_NOTE}.`),
        )
      }
      result.replaceChildren(...parts)
    } catch (e) {
      if (isAbort(e)) return
      status.textContent = 'The syncs could not be compared.'
      errorSlot.replaceChildren(alertBox((e as Error).message))
    }
  }

  const form = h(
    'form',
    {
      class: 'filters',
      onsubmit: (event: Event) => {
        event.preventDefault()
        void load(pickA.value, pickB.value)
      },
    },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Which syncs'),
      h('div', { class: 'field' }, h('label', { for: 'cmp-a' }, 'Sync A'), pickA),
      h('div', { class: 'field' }, h('label', { for: 'cmp-b' }, 'Sync B'), pickB),
      h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Compare')),
    ),
  )

  fill(
    main,
    h('h1', { tabindex: -1 }, 'Compare two syncs'),
    h('p', { class: 'intro' }, 'Counts side by side, and the records whose outcome differs between the two syncs.'),
    form,
    status,
    errorSlot,
    heads,
    result,
  )

  const picks = new AbortController()
  api.syncs(queryString({ limit: PICKER_SYNCS }), picks.signal).then(
    ({ syncs }) => {
      const b = params.get('b') ?? syncs[0]?.syncId ?? ''
      const a = params.get('a') ?? previousOf(syncs, b)?.syncId ?? ''
      const options = (selected: string): HTMLOptionElement[] => {
        const listed = syncs.map((r) => syncOption(r, selected))
        // A sync older than the pickers list still shows, by its id.
        if (selected !== '' && !syncs.some((r) => r.syncId === selected))
          listed.unshift(h('option', { value: selected, selected: true }, selected))
        return [h('option', { value: '' }, '(choose a sync)'), ...listed]
      }
      pickA.replaceChildren(...options(a))
      pickB.replaceChildren(...options(b))
      void load(a, b)
    },
    (e: unknown) => {
      if (isAbort(e)) return
      status.textContent = 'The sync history could not be read.'
      errorSlot.replaceChildren(alertBox((e as Error).message))
    },
  )
  return () => {
    picks.abort()
    controller?.abort()
  }
}
