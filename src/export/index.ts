/** The exporters: output adapters that turn sync-log rows into files and terminal tables. */
export type { LogRecord } from './log-record.js'
export { LOG_EXPORT_COLUMNS } from './log-columns.js'
export { neutralizeFormula } from './spreadsheet-safety.js'
export { formatTextTable, type TextTableOptions } from './text-table.js'
export { writeCsv, type CsvRow, type CsvWriteOptions } from './csv-writer.js'
export { writeLogXlsx, MAX_DATA_ROWS_PER_SHEET, type XlsxLogOptions } from './xlsx-log-writer.js'
export { writeSyncReports, SYNC_REPORT_FILES, type SyncReportFile, type SyncReportRow, type ReportStatus } from './sync-report.js'
