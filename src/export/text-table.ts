import { SynclogError } from '../errors.js'
import { ownValue } from '../dict.js'
import { terminalText } from './terminal-text.js'

export interface TextTableOptions {
  /** Longest cell, in characters, before it is cut with '…'. Default 40. */
  readonly maxWidth?: number
}

const DEFAULT_MAX_WIDTH = 40
const GAP = '  '

/** Aligned plain-text table for terminals; cells longer than maxWidth (default 40) are cut with '…'; columns given as [key, header]. */
export function formatTextTable(
  rows: readonly Record<string, string | number>[],
  columns: readonly (readonly [string, string])[],
  opts: TextTableOptions = {},
): string {
  const maxWidth = opts.maxWidth ?? DEFAULT_MAX_WIDTH
  if (!Number.isInteger(maxWidth) || maxWidth < 1) {
    throw new SynclogError('USAGE', `maxWidth must be a whole number ≥ 1, got ${maxWidth}`)
  }
  const header = columns.map(([, title]) => fit(title, maxWidth))
  const body = rows.map((row) => columns.map(([key]) => fit(ownValue(row, key) ?? '', maxWidth)))
  const numeric = columns.map(([key]) => rows.length > 0 && rows.every((row) => typeof ownValue(row, key) === 'number'))
  const widths = header.map((title, i) => Math.max(length(title), ...body.map((cells) => length(cells[i] ?? ''))))

  const line = (cells: readonly string[], alignRight: readonly boolean[]): string =>
    cells
      .map((cell, i) => (alignRight[i] ? padStart : padEnd)(cell, widths[i] ?? 0))
      .join(GAP)
      .trimEnd()

  return [line(header, numeric), widths.map((w) => '-'.repeat(w)).join(GAP), ...body.map((cells) => line(cells, numeric))].join('\n')
}

/**
 * One cell on one line, at most `maxWidth` characters. Cells come from SIS data: controls (newlines,
 * the ESC of ANSI sequences) and bidi overrides are shown as escapes, never sent to the terminal.
 */
function fit(value: string | number, maxWidth: number): string {
  const chars = Array.from(terminalText(String(value)))
  return chars.length <= maxWidth ? chars.join('') : `${chars.slice(0, maxWidth - 1).join('')}…`
}

/** Length in code points, so a cut never splits a surrogate pair. */
function length(text: string): number {
  return Array.from(text).length
}

function padEnd(text: string, width: number): string {
  return text + ' '.repeat(width - length(text))
}

function padStart(text: string, width: number): string {
  return ' '.repeat(width - length(text)) + text
}
