/**
 * Rosters in time: a section's students on a date (`#/roster?section=101&at=2024-09-05`) or
 * a student's sections that day (`#/roster?student=S001&at=…`), rebuilt by the server from
 * the applied rows of the sync log. Section and student numbers link to each other's roster
 * on the same date.
 */
import type { RosterAt, RosterLine } from '../../src/clickhouse/roster-at.js'
import { api, isAbort, queryString, type LogRecord } from './api.js'
import { alertBox, count, fill, h, timeEl } from './dom.js'
import { hrefOf, replaceHash } from './hash-route.js'
import { shownTime } from './local-times.js'
import type { Session } from './session.js'

type Kind = 'section' | 'student'

/** Today as `YYYY-MM-DD` in the reader's calendar: the date input's default. */
function today(): string {
  const now = new Date()
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`
}

/** The hash of a roster view. */
export function rosterHref(kind: Kind, id: string, at: string): string {
  return hrefOf('roster', { [kind]: id, at })
}

/** A student's or a section's number in a log row, as a link to its roster on the row's day (in the tenant's zone). */
export function rosterLink(column: 'studentNumber' | 'sectionNumber', value: string, row: LogRecord): HTMLElement {
  const day = shownTime(row.date, row.tenant).slice(0, 10)
  return h('a', { class: 'clamp', href: rosterHref(column === 'studentNumber' ? 'student' : 'section', value, day) }, value)
}

const COLUMNS = [
  'Student Number',
  'Student Name',
  'Course',
  'Section Number',
  'Serving School',
  'Home School',
  'Start Date',
  'End Date',
  'Since',
]

function lineRow(l: RosterLine, at: string): HTMLTableRowElement {
  return h(
    'tr',
    {},
    h(
      'td',
      {},
      h('a', { href: rosterHref('student', l.studentNumber, at), title: `Sections of student ${l.studentNumber}` }, l.studentNumber),
    ),
    h('td', {}, l.studentName),
    h('td', {}, l.courseNumber, l.courseName === '' ? '' : h('span', { class: 'hint' }, ` ${l.courseName}`)),
    h(
      'td',
      {},
      h('a', { href: rosterHref('section', l.sectionNumber, at), title: `Students of section ${l.sectionNumber}` }, l.sectionNumber),
    ),
    h('td', {}, l.servingSchool),
    h('td', {}, l.homeSchool),
    h('td', {}, l.beginDate),
    h('td', {}, l.endDate),
    h('td', {}, timeEl(l.since, l.tenant)),
  )
}

export function renderRoster(main: HTMLElement, params: URLSearchParams, _session: Session): () => void {
  const initialKind: Kind = params.has('student') ? 'student' : 'section'
  const kindSelect = h(
    'select',
    { id: 'r-kind' },
    h('option', { value: 'section', selected: initialKind === 'section' }, 'Section number'),
    h('option', { value: 'student', selected: initialKind === 'student' }, 'Student number'),
  )
  const idInput = h('input', { id: 'r-id', type: 'text', required: true, value: params.get(initialKind) ?? '', autocomplete: 'off' })
  const atInput = h('input', { id: 'r-at', type: 'date', required: true, value: params.get('at') ?? today() })
  const status = h('p', { role: 'status', id: 'roster-status' })
  const errorSlot = h('div')
  const tbody = h('tbody')
  const table = h(
    'div',
    { class: 'table-scroll', role: 'region', 'aria-label': 'Roster', tabindex: 0, hidden: true },
    h(
      'table',
      { class: 'roster' },
      h('caption', {}, 'Roster'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          COLUMNS.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      tbody,
    ),
  )
  let controller: AbortController | undefined

  const describe = (r: RosterAt, kind: Kind, id: string): string => {
    const n = r.lines.length
    return kind === 'section'
      ? `${count(n)} student${n === 1 ? '' : 's'} in section ${id} on ${atInput.value}.`
      : `Student ${id} had ${count(n)} section${n === 1 ? '' : 's'} on ${atInput.value}.`
  }

  async function load(): Promise<void> {
    const kind = kindSelect.value as Kind
    const id = idInput.value.trim()
    const at = atInput.value
    replaceHash(rosterHref(kind, id, at))
    controller?.abort()
    errorSlot.replaceChildren()
    tbody.replaceChildren()
    table.hidden = true
    if (id === '' || at === '') {
      status.textContent = `Give a ${kind === 'section' ? 'section' : 'student'} number and a date.`
      return
    }
    controller = new AbortController()
    status.textContent = 'Loading…'
    try {
      const roster = await api.roster(queryString({ [kind]: id, at }), controller.signal)
      status.textContent = describe(roster, kind, id)
      tbody.replaceChildren(...roster.lines.map((l) => lineRow(l, at)))
      table.hidden = roster.lines.length === 0
    } catch (e) {
      if (isAbort(e)) return
      status.textContent = 'The roster could not be read.'
      errorSlot.replaceChildren(alertBox((e as Error).message))
    }
  }

  const form = h(
    'form',
    {
      class: 'filters',
      onsubmit: (event: Event) => {
        event.preventDefault()
        void load()
      },
    },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Whose roster'),
      h('div', { class: 'field' }, h('label', { for: 'r-kind' }, 'By'), kindSelect),
      h('div', { class: 'field' }, h('label', { for: 'r-id' }, 'Number'), idInput),
      h('div', { class: 'field' }, h('label', { for: 'r-at' }, 'On'), atInput),
      h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Show roster')),
    ),
  )

  fill(
    main,
    h('h1', { tabindex: -1 }, 'Rosters in time'),
    h(
      'p',
      { class: 'intro' },
      "Who was enrolled in a section on a date, or a student's sections that day, rebuilt from the applied rows of the sync log (syncs awaiting review or rejected do not count).",
    ),
    form,
    status,
    errorSlot,
    table,
  )
  void load()
  return () => controller?.abort()
}
