/**
 * The sync log, as the Interdistrict Data Sync Log shows it: newest first, a
 * search field on every column that narrows the rows as you type, a scope picker
 * limited to what the token may see, "Export to Excel" of exactly the rows shown
 * by the filters, and rows read a page at a time however many match.
 */
import type { LogColumn } from '../../src/events/sync-log-event.js'
import { api, isAbort, queryString, type LogDownload, type SchoolEntry } from './api.js'
import type { Session } from './session.js'
import { alertBox, count, debounce, fill, h } from './dom.js'
import { hrefOf, replaceHash } from './hash-route.js'
import { chosenColumns, columnChooser } from './column-chooser.js'
import { LogTable, SHOWN_COLUMNS, columnLabel, type PagerState } from './log-table.js'

/** Filters a link may set that have no field of their own (from the sync history's numbers); shown as removable chips. */
const FIXED_FILTERS: ReadonlyMap<string, string> = new Map([
  ['sync', 'Sync'],
  ['action', 'Action'],
  ['outcome', 'Outcome'],
  ['entity', 'Record type'],
  ['app', 'App'],
  ['cause', 'Cause'],
])

/** Rows the log leaves out unless asked: each a checkbox, and a query parameter of the same name. */
const INCLUDE_ROWS = [
  ['includeRejected', 'Include rejected syncs'],
  ['includeProposed', 'Include proposed rows (syncs On Hold or in preview)'],
] as const

const SIDES = [
  ['either', 'Home or serving school'],
  ['home', 'Home school'],
  ['serving', 'Serving school'],
] as const

const TYPING_DELAY_MS = 250

export function renderSyncLog(main: HTMLElement, params: URLSearchParams, session: Session): () => void {
  const scope = session.me.scope
  const fixed = new URLSearchParams()
  for (const [key, value] of params) if (FIXED_FILTERS.has(key)) fixed.append(key, value)

  // Scope: what the token allows, and no more.
  const tenantSelect = h('select', { id: 'f-tenant', disabled: scope.tenant !== undefined })
  if (scope.tenant === undefined) tenantSelect.appendChild(h('option', { value: '' }, 'All districts'))
  else tenantSelect.appendChild(h('option', { value: scope.tenant }, scope.tenant))
  const schoolList = h('datalist', { id: 'f-school-list' })
  const schoolInput = h('input', {
    id: 'f-school',
    type: 'text',
    list: 'f-school-list',
    autocomplete: 'off',
    spellcheck: 'false',
    disabled: scope.school !== undefined,
    'aria-describedby': 'f-school-hint',
  })
  const sideSelect = h(
    'select',
    { id: 'f-side', disabled: scope.school !== undefined && scope.school.side !== 'either' },
    SIDES.map(([value, label]) => h('option', { value }, label)),
  )
  const fromInput = h('input', { id: 'f-from', type: 'date' })
  const toInput = h('input', { id: 'f-to', type: 'date' })

  let notice: string | undefined
  if (scope.school !== undefined) {
    if ((params.get('school') ?? scope.school.id) !== scope.school.id)
      notice = `This token sees school ${scope.school.id} only; the log shows that school.`
    schoolInput.value = scope.school.id
    sideSelect.value = scope.school.side === 'either' ? (params.get('side') ?? 'either') : scope.school.side
  } else {
    schoolInput.value = params.get('school') ?? ''
    sideSelect.value = params.get('side') ?? 'either'
  }
  if (scope.tenant === undefined) {
    // A district the URL names is picked at once, before the list of districts arrives.
    const wanted = params.get('tenant') ?? ''
    if (wanted !== '') tenantSelect.appendChild(h('option', { value: wanted }, wanted))
    tenantSelect.value = wanted
  }
  fromInput.value = params.get('from') ?? ''
  toInput.value = params.get('to') ?? ''
  if (!SIDES.some(([v]) => v === sideSelect.value)) sideSelect.value = 'either'

  // One search field per column the reader may show, each with its clear button; the row holds those of the columns shown.
  const searches = new Map<LogColumn, HTMLInputElement>()
  const searchCells = new Map<LogColumn, HTMLElement>()
  const searchRow = h('tr', { class: 'search-row' })
  for (const column of SHOWN_COLUMNS) {
    const label = columnLabel(column)
    const input = h('input', { type: 'text', class: 'search', 'aria-label': `Search ${label}`, autocomplete: 'off', spellcheck: 'false' })
    input.value = params.get(`contains.${column}`) ?? ''
    const clear = h(
      'button',
      { type: 'button', class: 'clear', 'aria-label': `Clear ${label} search`, title: `Clear ${label} search`, hidden: input.value === '' },
      '×',
    )
    clear.addEventListener('click', () => {
      input.value = ''
      clear.hidden = true
      input.focus()
      refresh()
    })
    input.addEventListener('input', () => {
      clear.hidden = input.value === ''
      refreshSoon()
    })
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && input.value !== '') {
        input.value = ''
        clear.hidden = true
        refresh()
      }
    })
    searches.set(column, input)
    searchCells.set(column, h('td', { class: `col-${column}` }, h('div', { class: 'search-cell' }, input, clear)))
  }
  // A search in the URL shows its column, whatever the reader chose before.
  let columns = chosenColumns([...searches].filter(([, input]) => input.value !== '').map(([c]) => c))
  const drawSearchRow = (): void => searchRow.replaceChildren(...columns.map((c) => searchCells.get(c)!), h('td'))
  drawSearchRow()

  // Rejected and proposed rows: left out unless their box is ticked.
  const includes = new Map(
    INCLUDE_ROWS.map(([key]) => [key, h('input', { type: 'checkbox', id: `f-${key}`, checked: params.get(key) === 'true' })] as const),
  )

  const status = h('p', { id: 'log-status', role: 'status', 'aria-live': 'polite' }, 'Loading…')
  const errorSlot = h('div')
  // One download link per format the server writes the log in (its list of formats), the first the usual one.
  const downloadMenu = h('div', { class: 'actions' })
  let downloads: LogDownload[] = []
  let downloadQuery = ''
  const drawDownloads = (): void => {
    downloadMenu.replaceChildren(
      ...downloads.map((d, i) =>
        h('a', { class: i === 0 ? 'button' : 'button secondary', download: '', href: `${d.url}${downloadQuery}` }, `Export to ${d.label}`),
      ),
    )
  }
  void api.logDownloads().then(
    (list) => {
      downloads = list.downloads
      drawDownloads()
    },
    () => {},
  )

  let counted: number | null = null
  // Records behind the matching rows: a record with several bad fields has a row per field, so the
  // history's error count (records) and these rows agree only when both are shown.
  let countedRecords = 0
  const recordsNote = (): string => (counted !== null && countedRecords !== counted ? ` (${count(countedRecords)} records)` : '')
  let pager: PagerState = { shown: 0, more: false, loading: true }
  const showStatus = (): void => {
    if (pager.error !== undefined) {
      errorSlot.replaceChildren(alertBox(pager.error))
      status.textContent = 'The rows could not be read.'
      return
    }
    errorSlot.replaceChildren()
    const windowNote = fromInput.value === '' && toInput.value === '' && !fixed.has('sync') ? ' in the last 30 days' : ''
    if (pager.loading && pager.shown === 0)
      status.textContent = counted === null ? 'Loading rows…' : `${count(counted)} matching rows${recordsNote()}${windowNote}; loading…`
    else if (pager.shown === 0) status.textContent = `No rows match${windowNote}.`
    else if (counted === null) status.textContent = `Showing ${count(pager.shown)} rows${pager.more || pager.loading ? '…' : ''}`
    else status.textContent = `Showing ${count(pager.shown)} of ${count(counted)} matching rows${recordsNote()}${windowNote}`
  }
  const table = new LogTable(
    'Sync log rows',
    (state) => {
      pager = state
      showStatus()
    },
    { columns, searchRow },
  )
  const chooser = columnChooser(columns, (next) => {
    // A search on a column that goes away would narrow the rows unseen: it goes too.
    let searchDropped = false
    for (const [column, input] of searches)
      if (!next.includes(column) && input.value !== '') {
        input.value = ''
        input.nextElementSibling?.setAttribute('hidden', '')
        searchDropped = true
      }
    columns = next
    drawSearchRow()
    table.setColumns(columns)
    if (searchDropped) refresh()
  })

  const chips = h('ul', { class: 'chips', 'aria-label': 'Other filters' })
  const drawChips = (): void => {
    chips.replaceChildren()
    for (const key of [...new Set(fixed.keys())]) {
      const values = fixed.getAll(key)
      const text = `${FIXED_FILTERS.get(key) ?? key}: ${values.join(' or ')}`
      chips.appendChild(
        h(
          'li',
          {},
          text,
          ' ',
          h(
            'button',
            {
              type: 'button',
              class: 'clear',
              'aria-label': `Remove filter ${text}`,
              title: 'Remove this filter',
              onclick: () => {
                fixed.delete(key)
                drawChips()
                refresh()
              },
            },
            '×',
          ),
        ),
      )
    }
    chips.hidden = chips.childElementCount === 0
  }
  drawChips()

  /** The filters as query parameters of the API (the same for the page, the count and the downloads). */
  const filters = (): Record<string, string | string[]> => {
    // Keys of `fixed` are FIXED_FILTERS' own names (checked as the page opens).
    const q: Record<string, string | string[]> = Object.fromEntries([...new Set(fixed.keys())].map((key) => [key, fixed.getAll(key)]))
    if (tenantSelect.value !== '' && scope.tenant === undefined) q['tenant'] = tenantSelect.value
    const school = schoolInput.value.trim()
    if (school !== '') {
      q['school'] = school
      if (sideSelect.value !== 'either') q['side'] = sideSelect.value
    }
    if (fromInput.value !== '') q['from'] = fromInput.value
    if (toInput.value !== '') q['to'] = toInput.value
    for (const [column, input] of searches) if (input.value !== '') q[`contains.${column}`] = input.value
    for (const [key, box] of includes) if (box.checked) q[key] = 'true'
    return q
  }

  const proposedNote = h(
    'p',
    { class: 'hint' },
    'Rows tagged Proposed are not applied: their sync waits for review (On Hold or a preview) and changes nothing until approved.',
  )
  let countController: AbortController | undefined
  const refresh = (): void => {
    proposedNote.hidden = !includes.get('includeProposed')!.checked
    const q = filters()
    const hashParams = { ...q }
    if (scope.school !== undefined) delete hashParams['school']
    replaceHash(hrefOf('log', hashParams))
    const qs = queryString(q)
    downloadQuery = qs
    drawDownloads()
    counted = null
    countController?.abort()
    const controller = new AbortController()
    countController = controller
    api.count(qs, controller.signal).then(
      (c) => {
        if (controller.signal.aborted) return
        counted = c.rows
        countedRecords = c.records
        showStatus()
      },
      (e: unknown) => {
        if (!isAbort(e)) counted = null
      },
    )
    void table.reset((cursor, signal) => api.log(queryString({ ...q, limit: '100', ...(cursor === null ? {} : { cursor }) }), signal))
  }
  const refreshSoon = debounce(refresh, TYPING_DELAY_MS)

  for (const el of [tenantSelect, sideSelect, fromInput, toInput, ...includes.values()]) el.addEventListener('change', refresh)
  schoolInput.addEventListener('input', refreshSoon)
  tenantSelect.addEventListener('change', () => fillSchools())

  let schools: SchoolEntry[] = []
  const fillSchools = (): void => {
    schoolList.replaceChildren(
      ...schools
        .filter((s) => tenantSelect.value === '' || s.tenant === tenantSelect.value)
        .map((s) => h('option', { value: s.schoolId }, scope.tenant === undefined ? `${s.schoolName} (${s.tenant})` : s.schoolName)),
    )
  }
  if (scope.school === undefined) {
    void api.schools().then(
      (list) => {
        schools = list.schools
        if (scope.tenant === undefined) {
          for (const tenant of [...new Set(schools.map((s) => s.tenant))])
            if (![...tenantSelect.options].some((o) => o.value === tenant)) tenantSelect.appendChild(h('option', { value: tenant }, tenant))
          tenantSelect.value = params.get('tenant') ?? ''
        }
        fillSchools()
      },
      () => {},
    )
  }

  fill(
    main,
    h('h1', { tabindex: -1 }, 'Sync log'),
    h(
      'p',
      { class: 'intro' },
      "Newest first. Type in any column's search field to narrow the rows: every field must match, ignoring case. Without dates, the last 30 days. Only applied rows unless you include others under Rows.",
    ),
    notice === undefined ? null : h('p', { class: 'notice' }, notice),
    fixed.has('sync')
      ? h('p', { class: 'hint' }, "A sync's No Change records are counted in its summary but have no row in the log.")
      : null,
    h(
      'div',
      { class: 'filters' },
      h(
        'fieldset',
        {},
        h('legend', {}, 'Scope'),
        h('div', { class: 'field' }, h('label', { for: 'f-tenant' }, 'District'), tenantSelect),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'f-school' }, 'School'),
          schoolInput,
          schoolList,
          h(
            'span',
            { id: 'f-school-hint', class: 'hint' },
            scope.school === undefined ? 'School ID; empty for all schools' : 'Set by your token',
          ),
        ),
        h('div', { class: 'field' }, h('label', { for: 'f-side' }, 'Match school on'), sideSelect),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, 'Dates'),
        h('div', { class: 'field' }, h('label', { for: 'f-from' }, 'From'), fromInput),
        h('div', { class: 'field' }, h('label', { for: 'f-to' }, 'To'), toInput),
      ),
      h(
        'fieldset',
        {},
        h('legend', {}, 'Rows'),
        INCLUDE_ROWS.map(([key, label]) => h('div', { class: 'check' }, includes.get(key)!, h('label', { for: `f-${key}` }, label))),
      ),
    ),
    chips,
    proposedNote,
    h('div', { class: 'toolbar' }, status, h('div', { class: 'actions' }, chooser, downloadMenu)),
    errorSlot,
    table.element,
  )
  refresh()
  return () => {
    countController?.abort()
    table.dispose()
  }
}
