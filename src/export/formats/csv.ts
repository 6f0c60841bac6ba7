/** `csv`: spreadsheet-safe CSV through the one CSV writer (csv-writer.ts), for scripts and spreadsheets. */
import { writeCsv, type CsvRow } from '../csv-writer.js'
import { LOG_EXPORT_COLUMNS } from '../log-columns.js'
import type { LogRecord } from '../log-record.js'
import { COUNT_COLUMNS, DAILY_COLUMNS, ROSTER_EXPORT_COLUMNS, SYNC_COLUMNS, countRows } from './columns.js'
import { COMPARE_RECORD_COLUMNS, compareRecordRow } from './compare-columns.js'
import type { OutputFormat } from './format.js'

export const CSV_TYPE = 'text/csv; charset=utf-8'

const logRows = (rows: readonly LogRecord[]): readonly CsvRow[] => rows as unknown as readonly CsvRow[]

async function* streamedLogRows(rows: AsyncIterable<LogRecord>): AsyncGenerator<CsvRow> {
  for await (const row of rows) yield row as unknown as CsvRow
}

export const csv = {
  name: 'csv',
  label: 'CSV',
  file: { extension: 'csv', contentType: CSV_TYPE },
  fileNote: 'CSV with a UTF-8 BOM and a header row; spreadsheet formulas neutralized.',

  async syncs(out, runs) {
    await writeCsv(out, runs as unknown as readonly CsvRow[], SYNC_COLUMNS)
  },

  async summary(out, summary) {
    const rows = countRows(summary.counts).map((r) => ({ school: '', schoolName: '(all schools)', ...r }))
    for (const [school, s] of Object.entries(summary.bySchool ?? {})) {
      rows.push(...countRows(s.counts).map((r) => ({ school, schoolName: s.schoolName, ...r })))
    }
    await writeCsv(out, rows, [['school', 'School ID'], ['schoolName', 'School'], ...COUNT_COLUMNS])
  },

  async daily(out, days) {
    await writeCsv(
      out,
      days.map((d) => ({ day: d.day, tenant: d.tenant, app: d.app, syncs: d.syncs, ...d.counts })),
      DAILY_COLUMNS,
    )
  },

  async logPage(out, rows) {
    await writeCsv(out, logRows(rows), LOG_EXPORT_COLUMNS)
  },

  async drillDown(out, drill) {
    await writeCsv(out, logRows(drill.rows), LOG_EXPORT_COLUMNS)
  },

  async roster(out, roster) {
    await writeCsv(out, roster.lines as unknown as readonly CsvRow[], ROSTER_EXPORT_COLUMNS)
  },

  /** The differing records, one per line (the counts are in the table and JSON forms). */
  async compare(out, comparison) {
    await writeCsv(out, comparison.records.map(compareRecordRow), COMPARE_RECORD_COLUMNS)
  },

  log: (out, rows) => writeCsv(out, streamedLogRows(rows), LOG_EXPORT_COLUMNS),
} as const satisfies OutputFormat
