/**
 * export: rows/s and peak RSS of writing N log rows (1M at medium) to a file.
 * The rows come from the synthetic log, generated as they are written (the same
 * generator feeds figure and baseline, so its cost is on both sides).
 *
 * xlsx figure   = writeLogXlsx (exceljs streaming WorkbookWriter with styles, date cells,
 *                 formula neutralizing, column widths, frozen header, autofilter, backpressure);
 * xlsx baseline = a raw exceljs streaming WorkbookWriter: same 24 columns as text, no styles,
 *                 no shared strings, row.commit() per row, a setImmediate every 1000 rows so
 *                 the zip stream can drain (without it, nothing is written until the end);
 * csv figure    = writeCsv (neutralized cells, BOM, CRLF, 500-row batches, backpressure);
 * csv baseline  = csv-stringify's stream API piped to the file (same columns and headers).
 */
import { createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setImmediate as nextTurn } from 'node:timers/promises'
import ExcelJS from 'exceljs'
import { stringify } from 'csv-stringify'
import { LOG_COLUMNS } from '../../../src/events/sync-log-event.js'
import { LOG_EXPORT_COLUMNS } from '../../../src/export/log-columns.js'
import { writeCsv } from '../../../src/export/csv-writer.js'
import { writeLogXlsx } from '../../../src/export/xlsx-log-writer.js'
import type { LogRecord } from '../../../src/export/log-record.js'
import { BENCH_SCALES } from '../bench-scales.js'
import { Stopwatch } from '../proc.js'
import { rateMeasure } from '../stats.js'
import { SyntheticLog } from '../synthetic-log.js'
import type { ChildResult, ChildSpec } from '../types.js'

async function rawXlsx(path: string, rows: Iterable<LogRecord>): Promise<number> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useStyles: false, useSharedStrings: false })
  const sheet = workbook.addWorksheet('Sync Log')
  sheet.addRow(LOG_EXPORT_COLUMNS.map(([, title]) => title)).commit()
  let n = 0
  for (const record of rows) {
    sheet.addRow(LOG_COLUMNS.map((key) => record[key])).commit()
    if (++n % 1000 === 0) await nextTurn()
  }
  sheet.commit()
  await workbook.commit()
  return n
}

async function rawCsv(path: string, rows: Iterable<LogRecord>): Promise<number> {
  let n = 0
  const counted = function* (): Generator<LogRecord> {
    for (const r of rows) {
      n++
      yield r
    }
  }
  const stringifier = stringify({
    header: true,
    bom: true,
    record_delimiter: 'windows',
    columns: LOG_EXPORT_COLUMNS.map(([key, header]) => ({ key, header })),
  })
  await pipeline(Readable.from(counted()), stringifier, createWriteStream(path))
  return n
}

export async function runExport(spec: ChildSpec): Promise<ChildResult> {
  const bs = BENCH_SCALES[spec.scale]
  const format = spec.part === 'csv' ? 'csv' : 'xlsx'
  const figure = spec.variant === 'figure'
  const log = new SyntheticLog({ rows: Math.ceil(bs.exportRows * 1.25), tenants: 4 })
  const rows = log.records(bs.exportRows)
  const path = join(spec.workDir, `log.${format}`)
  const watch = new Stopwatch().start()
  let written: number
  if (format === 'xlsx') written = figure ? await writeLogXlsx(path, rows) : await rawXlsx(path, rows)
  else written = figure ? await writeCsv(createWriteStream(path), rows, LOG_EXPORT_COLUMNS, { end: true }) : await rawCsv(path, rows)
  watch.stop()
  if (written !== bs.exportRows) throw new Error(`export ${format}: wrote ${written} rows, expected ${bs.exportRows}`)
  const { size } = await stat(path)
  const measure = rateMeasure(written, watch.seconds, watch.cpuSeconds, { 'file MB': Number((size / 1e6).toFixed(1)) })
  return {
    rows: [
      {
        key: `export-${format}`,
        label: format === 'xlsx' ? 'export: Excel (writeLogXlsx)' : 'export: CSV (writeCsv)',
        kind: 'rate',
        unit: 'rows/s',
        ...(figure ? { figure: measure } : { baseline: measure }),
      },
    ],
  }
}
