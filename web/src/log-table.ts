/**
 * A table of log rows, newest first, read a page at a time: the next page loads
 * when the reader scrolls near the end (or presses "Load more rows"), so a
 * million matching rows cost one page per screenful. Long cells are clamped on
 * screen with the full value in their title, and "Full row" opens every field
 * in a dialog: nothing is cut off without a way to read it. The reader picks the
 * columns; the first ones (date, action, student) stay in view when the table
 * scrolls sideways. Rows of a sync waiting for review are marked as proposed.
 */
import { LOG_COLUMN_HEADERS, type LogColumn } from '../../src/events/sync-log-event.js'
import { isAbort, type LogRecord } from './api.js'
import { append, h, timeEl } from './dom.js'
import { rosterLink } from './roster-view.js'

/** The columns of the Interdistrict Data Sync Log, then what the record was and why: the ones a reader may show. */
export const SHOWN_COLUMNS: readonly LogColumn[] = [
  'date',
  'action',
  'studentNumber',
  'studentName',
  'courseNumber',
  'courseName',
  'sectionNumber',
  'field',
  'oldValue',
  'newValue',
  'servingDistrict',
  'servingSchool',
  'homeDistrict',
  'homeSchool',
  'message',
  'state',
  'cause',
  'outcome',
  'entity',
  'sourcedId',
  'syncId',
]

/**
 * The columns shown until the reader chooses others: the log's own columns that fit a
 * 1,440-pixel window (long values wrap), then whether the row's changes were applied.
 */
export const DEFAULT_COLUMNS: readonly LogColumn[] = [
  'date',
  'action',
  'studentNumber',
  'studentName',
  'courseName',
  'sectionNumber',
  'field',
  'oldValue',
  'newValue',
  'servingSchool',
  'homeSchool',
  'message',
  'state',
]

/** Values longer than this may wrap past three lines in a column at its widest, so they are clamped. */
const CLAMP_ABOVE = 60

/** Leading columns that stay in view when the table scrolls sideways (those of them shown first). */
const STICKY_COLUMNS: ReadonlySet<LogColumn> = new Set(['date', 'action', 'studentNumber', 'studentName'])

/** The records behind a count: what happened to each and why first, then who and where. */
export const DRILL_COLUMNS: readonly LogColumn[] = [
  'date',
  'action',
  'outcome',
  'message',
  'sourcedId',
  'studentNumber',
  'studentName',
  'courseNumber',
  'courseName',
  'sectionNumber',
  'field',
  'oldValue',
  'newValue',
  'servingSchool',
  'homeSchool',
]

/** Every field, in the dialog's order: the shown columns, then ids and the record. */
const DIALOG_FIELDS: readonly (keyof LogRecord)[] = [
  ...SHOWN_COLUMNS,
  'app',
  'tenant',
  'seq',
  'servingDistrictId',
  'servingSchoolId',
  'homeDistrictId',
  'homeSchoolId',
  'recordSchoolId',
]

const FIELD_LABELS: Record<string, string> = {
  ...LOG_COLUMN_HEADERS,
  tenant: 'District (tenant)',
  seq: 'Row in sync',
  recordSchoolId: 'Counted under school ID',
}

export const columnLabel = (c: LogColumn): string => LOG_COLUMN_HEADERS[c]

export interface Page {
  rows: LogRecord[]
  nextCursor: string | null
}

export type FetchPage = (cursor: string | null, signal: AbortSignal) => Promise<Page>

export interface PagerState {
  shown: number
  more: boolean
  loading: boolean
  error?: string
}

export class LogTable {
  readonly element: HTMLElement
  private columns: readonly LogColumn[]
  private readonly table: HTMLTableElement
  private readonly headRow: HTMLTableRowElement
  private readonly tbody: HTMLTableSectionElement
  private readonly moreButton: HTMLButtonElement
  private readonly observer: IntersectionObserver
  private readonly resizes: ResizeObserver
  /** How many leading columns may stay in view (date, action, student, as far as they lead). */
  private leading = 0
  private fetchPage: FetchPage | undefined
  private cursor: string | null = null
  private controller: AbortController | undefined
  private loading = false
  private shown = 0
  /** The rows shown, to draw them again when the reader picks other columns. */
  private records: LogRecord[] = []
  private dialog: HTMLDialogElement | undefined

  constructor(
    caption: string,
    private readonly onState: (state: PagerState) => void,
    opts: { columns?: readonly LogColumn[]; searchRow?: HTMLTableRowElement } = {},
  ) {
    this.columns = opts.columns ?? DEFAULT_COLUMNS
    this.tbody = h('tbody')
    this.headRow = h('tr')
    this.table = h('table', { class: 'log' }, h('caption', {}, caption), h('thead', {}, this.headRow, opts.searchRow), this.tbody)
    this.moreButton = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => void this.loadMore() }, 'Load more rows')
    const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' })
    this.element = h(
      'div',
      { class: 'log-table' },
      h('div', { class: 'table-scroll', role: 'region', 'aria-label': caption, tabindex: 0 }, this.table),
      this.moreButton,
      sentinel,
    )
    this.observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void this.loadMore()
      },
      { rootMargin: '800px 0px' },
    )
    this.observer.observe(sentinel)
    this.resizes = new ResizeObserver(() => this.stickLeadingColumns())
    this.resizes.observe(this.table)
    this.resizes.observe(this.table.parentElement!)
    this.drawHead()
  }

  /** Shows other columns (the search row, if any, is the caller's to redraw first); the rows shown stay. */
  setColumns(columns: readonly LogColumn[]): void {
    this.columns = columns
    this.drawHead()
    this.tbody.replaceChildren(...this.records.map((row) => this.rowElement(row)))
  }

  private drawHead(): void {
    this.headRow.replaceChildren(
      ...this.columns.map((c) => h('th', { scope: 'col', class: `col-${c}` }, columnLabel(c))),
      h('th', { scope: 'col' }, 'Row'),
    )
    this.leading = 0
    while (this.leading < this.columns.length && STICKY_COLUMNS.has(this.columns[this.leading]!)) this.leading++
    this.stickLeadingColumns()
  }

  /**
   * Keeps the leading columns in view when the table is wider than its box, each at the
   * widths of the columns before it. A sticky cell costs layout on every row, so a table
   * that fits has none.
   */
  private stickLeadingColumns(): void {
    const box = this.table.parentElement!
    const sticky = box.scrollWidth > box.clientWidth + 1 ? this.leading : 0
    if (this.table.dataset['sticky'] !== String(sticky)) this.table.dataset['sticky'] = String(sticky)
    let left = 0
    const cells = [...this.headRow.cells]
    for (let i = 0; i < sticky; i++) {
      const value = `${left}px`
      if (this.table.style.getPropertyValue(`--sticky-left-${i + 1}`) !== value)
        this.table.style.setProperty(`--sticky-left-${i + 1}`, value)
      left += cells[i]?.getBoundingClientRect().width ?? 0
    }
  }

  /** Starts over with another query: the first page replaces the rows. */
  async reset(fetchPage: FetchPage): Promise<void> {
    this.controller?.abort()
    this.fetchPage = fetchPage
    this.cursor = null
    this.loading = false
    // The old rows stay on screen (dimmed) until the new ones arrive, but no longer count as shown.
    this.shown = 0
    this.tbody.classList.add('stale')
    await this.next(true)
  }

  async loadMore(): Promise<void> {
    if (this.cursor === null || this.loading || this.fetchPage === undefined) return
    await this.next(false)
  }

  /** Stops loading (the view is going away). */
  dispose(): void {
    this.controller?.abort()
    this.observer.disconnect()
    this.resizes.disconnect()
  }

  private async next(first: boolean): Promise<void> {
    const controller = new AbortController()
    this.controller = controller
    this.loading = true
    this.table.setAttribute('aria-busy', 'true')
    this.report()
    try {
      const page = await this.fetchPage!(first ? null : this.cursor, controller.signal)
      if (controller.signal.aborted) return
      if (first) {
        this.tbody.replaceChildren()
        this.tbody.classList.remove('stale')
        this.shown = 0
        this.records = []
      }
      this.records.push(...page.rows)
      const fragment = document.createDocumentFragment()
      for (const row of page.rows) fragment.appendChild(this.rowElement(row))
      this.tbody.appendChild(fragment)
      this.shown += page.rows.length
      this.cursor = page.nextCursor
      this.loading = false
      this.report()
      // A short first page may leave the sentinel on screen: keep filling.
      if (this.cursor !== null) requestAnimationFrame(() => this.fillScreen())
    } catch (e) {
      if (isAbort(e) || controller.signal.aborted) return
      this.loading = false
      if (first) {
        this.tbody.replaceChildren()
        this.tbody.classList.remove('stale')
        this.shown = 0
        this.records = []
        this.cursor = null
      }
      this.report((e as Error).message)
    }
  }

  private fillScreen(): void {
    const rect = this.moreButton.getBoundingClientRect()
    if (!this.moreButton.hidden && rect.top < window.innerHeight + 800) void this.loadMore()
  }

  private report(error?: string): void {
    if (!this.loading) this.table.removeAttribute('aria-busy')
    this.moreButton.hidden = this.cursor === null || this.loading
    this.onState({ shown: this.shown, more: this.cursor !== null, loading: this.loading, ...(error === undefined ? {} : { error }) })
  }

  private rowElement(row: LogRecord): HTMLTableRowElement {
    // Rows of a sync waiting for review are proposed, those of a rejected one were never applied: each looks apart.
    const state = row.state ?? 'Applied'
    const tr = h('tr', {
      'data-row-key': `${row.tenant}|${row.syncId}|${row.seq}`,
      class: state === 'Applied' ? null : `row-${state.toLowerCase()}`,
    })
    for (const c of this.columns) {
      const value = String(row[c] ?? '')
      const td = h('td', { class: `cell col-${c}` })
      if (value !== '') td.title = value
      if (c === 'date') append(td, timeEl(value, row.tenant))
      // A student's or a section's number opens its roster on the row's day.
      else if ((c === 'studentNumber' || c === 'sectionNumber') && value !== '') append(td, rosterLink(c, value, row))
      else if (c === 'state' && (value === 'Proposed' || value === 'Rejected'))
        append(td, h('span', { class: `tag ${value.toLowerCase()}` }, value))
      // Only a value long enough to pass three lines needs the clamp's extra element (a page holds thousands of cells).
      else if (value.length > CLAMP_ABOVE) append(td, h('span', { class: 'clamp' }, value))
      else td.textContent = value
      tr.appendChild(td)
    }
    const button = h('button', { type: 'button', class: 'full-row' }, 'Full row')
    button.addEventListener('click', () => this.openDialog(row, button))
    tr.appendChild(h('td', {}, button))
    return tr
  }

  private openDialog(row: LogRecord, opener: HTMLElement): void {
    const dialog = this.dialog ?? this.createDialog()
    const list = dialog.querySelector('dl')!
    list.replaceChildren()
    for (const field of DIALOG_FIELDS) {
      const value = String(row[field] ?? '')
      append(list, h('dt', {}, FIELD_LABELS[field] ?? field), h('dd', {}, value === '' ? h('span', { class: 'blank' }, '(blank)') : value))
    }
    dialog.addEventListener('close', () => opener.focus(), { once: true })
    dialog.showModal()
    dialog.querySelector<HTMLButtonElement>('button.close')!.focus()
  }

  private createDialog(): HTMLDialogElement {
    const dialog: HTMLDialogElement = h(
      'dialog',
      { class: 'row-dialog', 'aria-labelledby': 'row-dialog-title' },
      h('h2', { id: 'row-dialog-title' }, 'Row details'),
      h('dl'),
      h('p', {}, h('button', { type: 'button', class: 'close', onclick: () => dialog.close() }, 'Close')),
    )
    this.element.appendChild(dialog)
    this.dialog = dialog
    return dialog
  }
}
