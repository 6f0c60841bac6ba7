/**
 * The one CSV writer: every CSV synclog writes (`log`, `export`, `report`, the API's
 * downloads, the read commands' `--format csv`) goes through `writeCsv`, and lint keeps
 * every other module from writing CSV itself (eslint.config.js).
 *
 * Formula-safe whatever the value: every string cell is neutralized line by line
 * (spreadsheet-safety.ts), and every field a reader could split or trim is quoted, so a
 * line break inside a value stays inside its cell.
 */
import { once } from 'node:events'
import { neutralizeFormula } from './spreadsheet-safety.js'
import { ownValue } from '../dict.js'

export type CsvRow = Readonly<Record<string, string | number>>

export interface CsvWriteOptions {
  /** End `out` once everything is written and wait for it to finish. Default false: the caller owns `out`. */
  readonly end?: boolean
}

/** Rows encoded per write; bounds memory while keeping writes large. */
const BATCH_ROWS = 500

const BOM = '\uFEFF'
const RECORD_END = '\r\n'

/**
 * A field a reader could misread unquoted: a quote, a comma or a semicolon (the separator
 * of many European spreadsheet locales), any control character (CR, LF, TAB, VT, FF, NUL,
 * NEL, ...), a Unicode line or paragraph separator, or whitespace or an invisible format
 * character (BOM, zero-width space) at either end, which some readers trim.
 */
const NEEDS_QUOTES = /[",;\p{Cc}\u2028\u2029]|^[\s\p{Cf}]|[\s\p{Cf}]$/u

/**
 * Writes rows as CSV (UTF-8 BOM, CRLF, header row of human headers, every string cell neutralized).
 * Resolves when flushed. Honours backpressure.
 * `out` stays open unless `opts.end` is set; the returned count excludes the header.
 */
export async function writeCsv(
  out: NodeJS.WritableStream,
  rows: AsyncIterable<CsvRow> | Iterable<CsvRow>,
  columns: readonly (readonly [string, string])[],
  opts: CsvWriteOptions = {},
): Promise<number> {
  const writer = new ChunkWriter(out)
  const keys = columns.map(([key]) => key)
  let batch = BOM + csvRecord(columns.map(([, header]) => header))
  let inBatch = 0
  let count = 0
  for await (const row of rows) {
    batch += csvRecord(keys.map((key) => cellText(ownValue(row, key))))
    count++
    if (++inBatch >= BATCH_ROWS) {
      await writer.write(batch)
      batch = ''
      inBatch = 0
    }
  }
  await writer.write(batch)
  await writer.flushed()
  if (opts.end) await endStream(out)
  return count
}

/** A cell as it is written: numbers as numbers, text neutralized, nothing for a missing value. */
function cellText(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (value === undefined || value === null) return ''
  return neutralizeFormula(String(value))
}

function csvRecord(fields: readonly string[]): string {
  return fields.map(csvField).join(',') + RECORD_END
}

/** RFC 4180: quoted when needed, quotes doubled. */
function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** Writes to a stream, waiting for 'drain' when it asks to, and remembers the last write to await its flush. */
class ChunkWriter {
  private last: Promise<void> = Promise.resolve()

  constructor(private readonly out: NodeJS.WritableStream) {}

  async write(chunk: string): Promise<void> {
    if (chunk === '') return
    let accepted = true
    this.last = new Promise<void>((resolve, reject) => {
      accepted = this.out.write(chunk, (err) => (err ? reject(err) : resolve()))
    })
    // A failed write rejects both here and in flushed(); keep the first one from being "unhandled".
    this.last.catch(() => undefined)
    if (!accepted) await once(this.out, 'drain')
  }

  flushed(): Promise<void> {
    return this.last
  }
}

async function endStream(out: NodeJS.WritableStream): Promise<void> {
  const finished = once(out, 'finish')
  out.end()
  await finished
}
