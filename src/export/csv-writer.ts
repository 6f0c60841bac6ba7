import { once } from 'node:events'
import { stringify } from 'csv-stringify/sync'
import { neutralizeCell } from './spreadsheet-safety.js'

export type CsvRow = Readonly<Record<string, string | number>>

export interface CsvWriteOptions {
  /** End `out` once everything is written and wait for it to finish. Default false: the caller owns `out`. */
  readonly end?: boolean
}

/** Rows stringified per write; bounds memory while keeping writes large. */
const BATCH_ROWS = 500

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
  const format = csvFormat(columns)
  let batch: Record<string, string | number>[] = []
  let count = 0
  let first = true
  const flush = async (): Promise<void> => {
    await writer.write(format(batch, first))
    first = false
    batch = []
  }
  for await (const row of rows) {
    batch.push(neutralizeRow(row, columns))
    count++
    if (batch.length >= BATCH_ROWS) await flush()
  }
  if (first || batch.length > 0) await flush()
  await writer.flushed()
  if (opts.end) await endStream(out)
  return count
}

function csvFormat(columns: readonly (readonly [string, string])[]) {
  const csvColumns = columns.map(([key, header]) => ({ key, header }))
  return (records: readonly Record<string, string | number>[], first: boolean): string =>
    stringify(records as Record<string, string | number>[], {
      columns: csvColumns,
      header: first,
      bom: first,
      record_delimiter: 'windows',
    })
}

function neutralizeRow(row: CsvRow, columns: readonly (readonly [string, string])[]): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  for (const [key] of columns) out[key] = neutralizeCell(row[key] ?? '')
  return out
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
