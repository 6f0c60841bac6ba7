/**
 * A sync's counts as tables (the Amplify summary): per record type, and per
 * school with each school's own summary on demand. Every number that is not
 * zero links to the records behind it.
 */
import { ENTITY_TYPES } from '../../src/events/change-event.js'
import type { Outcome } from '../../src/events/sync-log-event.js'
import type { OutcomeCountsJson, SyncSummary } from './api.js'
import { count, h } from './dom.js'
import { hrefOf } from './hash-route.js'

/** The columns of a summary: the count's field, its header, and the outcomes it counts (none = all: the Total). */
export const COUNT_COLUMNS: readonly { field: keyof OutcomeCountsJson; header: string; outcomes?: readonly Outcome[] }[] = [
  { field: 'total', header: 'Total' },
  { field: 'noChange', header: 'No Change', outcomes: ['No Change'] },
  { field: 'new', header: 'New', outcomes: ['New'] },
  { field: 'updated', header: 'Updated', outcomes: ['Updated'] },
  { field: 'deleted', header: 'Deleted', outcomes: ['Deleted'] },
  { field: 'skipped', header: 'Skipped', outcomes: ['Skipped'] },
  { field: 'duplicates', header: 'Duplicates', outcomes: ['Merged', 'Excluded'] },
  { field: 'merged', header: 'Merged', outcomes: ['Merged'] },
  { field: 'excluded', header: 'Excluded', outcomes: ['Excluded'] },
  { field: 'invalid', header: 'Invalid', outcomes: ['Invalid'] },
]

/** The drill-down view of one count. `school` undefined = every school the token sees. */
export function drillHref(syncId: string, entity: string, outcomes: readonly Outcome[] | undefined, school?: string): string {
  return hrefOf('drill', { sync: syncId, entity, outcome: outcomes ?? [], school })
}

function numberCell(n: number, href: string, label: string): HTMLTableCellElement {
  return h('td', { class: 'num' }, n === 0 ? '0' : h('a', { href, 'aria-label': `${count(n)} ${label}` }, count(n)))
}

/** Counts by entity name. A Map: names and school ids are data ('__proto__' is an id like any other). */
const byName = (counts: Readonly<Record<string, OutcomeCountsJson>>): ReadonlyMap<string, OutcomeCountsJson> =>
  new Map(Object.entries(counts))

function entitiesOf(counts: ReadonlyMap<string, OutcomeCountsJson>): string[] {
  const known: string[] = ENTITY_TYPES.filter((e) => counts.has(e))
  return [...known, ...[...counts.keys()].filter((e) => !known.includes(e)).sort()]
}

/** Element ids of school details, unique on the page whatever the school and sync ids hold. */
let detailsSeq = 0

/** Record type × outcome, each number linking to its records. */
export function summaryTable(caption: string, syncId: string, counts: Record<string, OutcomeCountsJson>, school?: string): HTMLElement {
  const where = school === undefined ? '' : ` in ${school === '' ? '(district)' : school}`
  const byEntity = byName(counts)
  return h(
    'div',
    { class: 'table-scroll', role: 'region', 'aria-label': caption, tabindex: 0 },
    h(
      'table',
      { class: 'counts' },
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Record type'),
          COUNT_COLUMNS.map((c) => h('th', { scope: 'col', class: 'num' }, c.header)),
        ),
      ),
      h(
        'tbody',
        {},
        entitiesOf(byEntity).map((entity) => {
          const c = byEntity.get(entity)!
          return h(
            'tr',
            {},
            h('th', { scope: 'row' }, entity),
            COUNT_COLUMNS.map((col) =>
              numberCell(
                c[col.field],
                drillHref(syncId, entity, col.outcomes, school),
                `${col.header === 'Total' ? '' : `${col.header} `}${entity} records${where}`.trim(),
              ),
            ),
          )
        }),
      ),
    ),
  )
}

/** One row per school: its total per record type (each a link), and its own summary when its name is pressed. */
export function schoolsTable(syncId: string, summary: SyncSummary): HTMLElement {
  const entities = entitiesOf(byName(summary.counts))
  const schools = Object.entries(summary.bySchool ?? {}).sort(([a, sa], [b, sb]) => {
    if (a === '(district)') return -1
    if (b === '(district)') return 1
    return sa.schoolName.localeCompare(sb.schoolName) || a.localeCompare(b)
  })
  const tbody = h('tbody')
  for (const [id, school] of schools) {
    const name = id === '(district)' ? '(district)' : school.schoolName || id
    const schoolCounts = byName(school.counts)
    const detailsId = `school-details-${++detailsSeq}`
    const detailsRow = h('tr', { class: 'school-details', hidden: true }, h('td', { colspan: entities.length + 1 }))
    const toggle = h('button', { type: 'button', class: 'linklike', 'aria-expanded': 'false', 'aria-controls': detailsId }, name)
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true'
      toggle.setAttribute('aria-expanded', String(open))
      detailsRow.hidden = !open
      const cell = detailsRow.firstElementChild!
      if (open && cell.childElementCount === 0) {
        cell.appendChild(h('div', { id: detailsId }, summaryTable(`${name} by record type`, syncId, school.counts, id)))
      }
    })
    tbody.append(
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, toggle, id === '(district)' || id === name ? null : h('span', { class: 'school-id' }, ` ${id}`)),
        entities.map((entity) => {
          const n = schoolCounts.get(entity)?.total ?? 0
          return numberCell(n, drillHref(syncId, entity, undefined, id), `${entity} records in ${name}`)
        }),
      ),
      detailsRow,
    )
  }
  return h(
    'div',
    { class: 'table-scroll', role: 'region', 'aria-label': 'Statistics by school', tabindex: 0 },
    h(
      'table',
      { class: 'counts' },
      h('caption', {}, 'Statistics by school'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'School'),
          entities.map((e) => h('th', { scope: 'col', class: 'num' }, e)),
        ),
      ),
      tbody,
    ),
  )
}
