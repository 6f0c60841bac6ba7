/**
 * A table of log rows, newest first, read a page at a time: the next page loads
 * when the reader scrolls near the end (or presses "Load more rows"), so a
 * million matching rows cost one page per screenful. Long cells are clamped on
 * screen with the full value in their title, and "Full row" opens every field
 * in a dialog: nothing is cut off without a way to read it.
 */
import { LOG_COLUMN_HEADERS, type LogColumn } from '../../src/events/sync-log-event.js'
import { isAbort, type LogRecord } from './api.js'
import { append, h } from './dom.js'

/** The columns of the Interdistrict Data Sync Log, then what the record was and why. */
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
]

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
  'outcome',
  'entity',
  'sourcedId',
  'app',
  'syncId',
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
  private readonly columns: readonly LogColumn[]
  private readonly tbody: HTMLTableSectionElement
  private readonly moreButton: HTMLButtonElement
  private readonly observer: IntersectionObserver
  private fetchPage: FetchPage | undefined
  private cursor: string | null = null
  private controller: AbortController | undefined
  private loading = false
  private shown = 0
  private dialog: HTMLDialogElement | undefined

  constructor(
    caption: string,
    private readonly onState: (state: PagerState) => void,
    opts: { columns?: readonly LogColumn[]; searchRow?: HTMLTableRowElement } = {},
  ) {
    this.columns = opts.columns ?? SHOWN_COLUMNS
    const searchRow = opts.searchRow
    this.tbody = h('tbody')
    const headRow = h(
      'tr',
      {},
      this.columns.map((c) => h('th', { scope: 'col' }, columnLabel(c))),
      h('th', { scope: 'col' }, 'Row'),
    )
    const table = h('table', { class: 'log' }, h('caption', {}, caption), h('thead', {}, headRow, searchRow), this.tbody)
    this.moreButton = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => void this.loadMore() }, 'Load more rows')
    const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' })
    this.element = h(
      'div',
      { class: 'log-table' },
      h('div', { class: 'table-scroll', role: 'region', 'aria-label': caption, tabindex: 0 }, table),
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
  }

  private async next(first: boolean): Promise<void> {
    const controller = new AbortController()
    this.controller = controller
    this.loading = true
    this.report()
    try {
      const page = await this.fetchPage!(first ? null : this.cursor, controller.signal)
      if (controller.signal.aborted) return
      if (first) {
        this.tbody.replaceChildren()
        this.tbody.classList.remove('stale')
        this.shown = 0
      }
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
    this.moreButton.hidden = this.cursor === null || this.loading
    this.onState({ shown: this.shown, more: this.cursor !== null, loading: this.loading, ...(error === undefined ? {} : { error }) })
  }

  private rowElement(row: LogRecord): HTMLTableRowElement {
    const tr = h('tr', { 'data-row-key': `${row.tenant}|${row.syncId}|${row.seq}` })
    for (const c of this.columns) {
      const value = String(row[c])
      const td = h('td', { class: `cell col-${c}` })
      if (value !== '') td.title = value
      if (c === 'date') append(td, h('time', { datetime: value }, value))
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
      const value = String(row[field])
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
