/**
 * Which columns the sync log shows: a box per column, kept in the browser's local
 * storage so the choice survives a reload, and a way back to the defaults (the
 * columns that fit a 1,440-pixel window).
 */
import type { LogColumn } from '../../src/events/sync-log-event.js'
import { h } from './dom.js'
import { DEFAULT_COLUMNS, SHOWN_COLUMNS, columnLabel } from './log-table.js'

const STORAGE_KEY = 'synclog.log.columns'

function stored(): LogColumn[] | null {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null')
    if (!Array.isArray(value)) return null
    const known = SHOWN_COLUMNS.filter((c) => value.includes(c))
    return known.length === 0 ? null : known
  } catch {
    return null
  }
}

function store(columns: readonly LogColumn[]): void {
  try {
    if (sameColumns(columns, DEFAULT_COLUMNS)) localStorage.removeItem(STORAGE_KEY)
    else localStorage.setItem(STORAGE_KEY, JSON.stringify(columns))
  } catch {
    // Storage may be off (a private window): the choice then lasts as long as the page.
  }
}

const sameColumns = (a: readonly LogColumn[], b: readonly LogColumn[]): boolean => a.length === b.length && a.every((c, i) => c === b[i])

/** The columns to show, in the table's order: the reader's choice (or the defaults), and `needed` ones (a search in the URL). */
export function chosenColumns(needed: readonly LogColumn[]): LogColumn[] {
  const chosen = stored() ?? DEFAULT_COLUMNS
  return SHOWN_COLUMNS.filter((c) => chosen.includes(c) || needed.includes(c))
}

/**
 * A disclosure "Columns (n of m)" with a checkbox per column and "Default columns".
 * `onChange` gets the new columns in the table's order, after they are stored.
 */
export function columnChooser(initial: readonly LogColumn[], onChange: (columns: LogColumn[]) => void): HTMLElement {
  let columns = [...initial]
  const summary = h('summary')
  const boxes = new Map(SHOWN_COLUMNS.map((c) => [c, h('input', { type: 'checkbox', id: `col-${c}`, value: c })] as const))
  const sync = (): void => {
    for (const [c, box] of boxes) {
      box.checked = columns.includes(c)
      // At least one column stays.
      box.disabled = box.checked && columns.length === 1
    }
    summary.textContent = `Columns (${columns.length} of ${SHOWN_COLUMNS.length})`
  }
  const set = (next: LogColumn[]): void => {
    columns = next
    store(columns)
    sync()
    onChange([...columns])
  }
  for (const [c, box] of boxes)
    box.addEventListener('change', () => set(SHOWN_COLUMNS.filter((other) => (other === c ? box.checked : columns.includes(other)))))
  const reset = h('button', { type: 'button', class: 'secondary' }, 'Default columns')
  reset.addEventListener('click', () => set([...DEFAULT_COLUMNS]))
  sync()
  return h(
    'details',
    { class: 'column-chooser' },
    summary,
    h(
      'fieldset',
      {},
      h('legend', {}, 'Show these columns'),
      h(
        'div',
        { class: 'column-boxes' },
        [...boxes].map(([c, box]) => h('div', { class: 'check' }, box, h('label', { for: box.id }, columnLabel(c)))),
      ),
      reset,
    ),
  )
}
