/**
 * A CSV file as a header plus a stream of rows, each either readable (one value
 * per header column) or unreadable with the column and the reason. A problem in a
 * row never stops the rows after it; a problem in the header makes the whole file
 * unreadable (thrown as `INPUT_UNREADABLE`, turned into SyncFailed by the reader).
 */
import { SynclogError } from '../errors.js'
import { DEFAULT_LIMITS, formatBytes, howToRaise, type InputLimits } from '../config/limits.js'
import { splitCsvLine } from './csv-line.js'
import { physicalLineBatches, type PhysicalLine } from './physical-lines.js'

/**
 * csvColumns: most header columns, or the file is unreadable; csvFieldChars: longest
 * value kept, a longer one makes its row unreadable; csvLineBytes: longest physical
 * line buffered, the rest of a longer line is skipped unread (its row unreadable).
 */
export type CsvLimits = Pick<InputLimits, 'csvColumns' | 'csvLineBytes' | 'csvFieldChars'>

export type CsvItem =
  | { readonly kind: 'row'; readonly line: number; readonly values: readonly string[] }
  | {
      readonly kind: 'unreadable'
      readonly line: number
      /** Header name of the column at fault, `''` when the row as a whole is at fault. */
      readonly column: string
      readonly message: string
      /** Values read before the problem, in header order (best effort). */
      readonly values: readonly string[]
    }

export interface CsvTable {
  readonly file: string
  /** Header names in file order. */
  readonly columns: readonly string[]
  /** The rows after the header, in batches (never empty); can be iterated once. */
  rows(): AsyncGenerator<readonly CsvItem[]>
  /** Stops reading (also done when `rows()` ends or is left early). */
  close(): Promise<void>
}

function unreadableFile(file: string, message: string): SynclogError {
  return new SynclogError('INPUT_UNREADABLE', `${file}: ${message}`)
}

function overLimit(file: string, message: string, key: keyof CsvLimits): SynclogError {
  return new SynclogError('INPUT_LIMIT_EXCEEDED', `${file}: ${message}; ${howToRaise(key)}`)
}

function lineTooLong(limits: CsvLimits): string {
  return `the line is longer than the limit csvLineBytes (${formatBytes(limits.csvLineBytes)})`
}

function readHeader(file: string, pl: PhysicalLine, limits: CsvLimits): readonly string[] {
  const { line, text, overLong, invalidUtf8 } = pl
  if (overLong)
    throw overLimit(
      file,
      `the header row (line ${line}) is longer than the limit csvLineBytes (${formatBytes(limits.csvLineBytes)})`,
      'csvLineBytes',
    )
  if (invalidUtf8) throw unreadableFile(file, `the header row (line ${line}) is not valid UTF-8`)
  const split = splitCsvLine(text, limits.csvFieldChars)
  if (!split.ok) throw unreadableFile(file, `the header row (line ${line}) cannot be read: ${split.message}`)
  if (split.fields.length > limits.csvColumns) {
    throw overLimit(
      file,
      `the header row (line ${line}) has ${split.fields.length} columns, more than the limit csvColumns (${limits.csvColumns})`,
      'csvColumns',
    )
  }
  const seen = new Set<string>()
  for (const name of split.fields) {
    if (name === '') continue
    if (seen.has(name)) throw unreadableFile(file, `column '${name}' appears more than once in the header`)
    seen.add(name)
  }
  return split.fields
}

function unreadableRow(line: number, column: string, message: string, values: readonly string[]): CsvItem {
  return { kind: 'unreadable', line, column, message, values }
}

function readRow(columns: readonly string[], pl: PhysicalLine, limits: CsvLimits): CsvItem {
  const { line, text, overLong, invalidUtf8 } = pl
  if (invalidUtf8) return unreadableRow(line, '', 'the line is not valid UTF-8', [])
  const split = splitCsvLine(text, limits.csvFieldChars)
  if (!split.ok) {
    if (overLong && split.problem !== 'too-long') return unreadableRow(line, '', lineTooLong(limits), split.fields)
    return unreadableRow(line, columns[split.column] ?? '', split.message, split.fields)
  }
  if (overLong) return unreadableRow(line, '', lineTooLong(limits), split.fields)
  if (split.fields.length !== columns.length) {
    return unreadableRow(line, '', `expected ${columns.length} values as in the header, found ${split.fields.length}`, split.fields)
  }
  return { kind: 'row', line, values: split.fields }
}

function isBlank(pl: PhysicalLine): boolean {
  return pl.text === '' && !pl.overLong && !pl.invalidUtf8
}

function readRows(columns: readonly string[], lines: readonly PhysicalLine[], limits: CsvLimits): CsvItem[] {
  const items: CsvItem[] = []
  for (const pl of lines) if (!isBlank(pl)) items.push(readRow(columns, pl, limits))
  return items
}

/** Reads the header of `file` from `bytes` (UTF-8, optional BOM, LF or CRLF). */
export async function openCsvTable(file: string, bytes: AsyncIterable<Buffer>, limits: CsvLimits = DEFAULT_LIMITS): Promise<CsvTable> {
  const batches = physicalLineBatches(bytes, limits.csvLineBytes)
  let columns: readonly string[] | null = null
  let rest: readonly PhysicalLine[] = []
  try {
    while (columns === null) {
      const next = await batches.next()
      if (next.done) throw unreadableFile(file, 'the file is empty; a header row is required')
      const at = next.value.findIndex((pl) => !isBlank(pl))
      const header = next.value[at]
      if (header === undefined) continue
      columns = readHeader(file, header, limits)
      rest = next.value.slice(at + 1)
    }
  } catch (e) {
    await batches.return(undefined)
    throw e
  }
  const header = columns
  return {
    file,
    columns: header,
    async *rows() {
      try {
        const first = readRows(header, rest, limits)
        rest = []
        if (first.length > 0) yield first
        for await (const lines of batches) {
          const items = readRows(header, lines, limits)
          if (items.length > 0) yield items
        }
      } finally {
        await batches.return(undefined)
      }
    },
    async close() {
      await batches.return(undefined)
    },
  }
}
