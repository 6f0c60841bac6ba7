import type { Stream } from 'node:stream'
import ExcelJS from 'exceljs'
import { SynclogError } from '../errors.js'
import { LOG_COLUMNS, type LogColumn } from '../events/sync-log-event.js'
import { writeFileAtomically } from './atomic-file.js'
import { LOG_EXPORT_COLUMNS } from './log-columns.js'
import { wallClock, type TimeZones } from './local-time.js'
import type { LogRecord } from './log-record.js'
import { neutralizeFormula } from './spreadsheet-safety.js'
import { SheetPacer } from './xlsx-pacing.js'
import { DEFAULT_SHEET_NAME, nthSheetName, safeSheetName } from './xlsx-sheet-names.js'

export interface XlsxLogOptions {
  /** Data rows per worksheet before a new one starts. Default and maximum 1,048,575 (Excel's limit minus the header). */
  readonly maxRowsPerSheet?: number
  /** Base worksheet name; later sheets get ' (2)', ' (3)', … Default 'Sync Log'. */
  readonly sheetName?: string
  /**
   * Each tenant's time zone: dates show its local time, and a note on the Date header names
   * the zone (or the tenants' zones, when they differ). Default: UTC wall time, no note.
   */
  readonly timeZones?: TimeZones
}

/** Excel's 1,048,576 rows per sheet, one of them the header. */
export const MAX_DATA_ROWS_PER_SHEET = 1_048_575
const YIELD_EVERY_ROWS = 1000
const DATE_FORMAT = 'yyyy-mm-dd hh:mm'

/** Column widths in characters, sized for typical content rather than measured (rows stream past once). */
const COLUMN_WIDTHS: Readonly<Record<LogColumn, number>> = {
  date: 17,
  action: 26,
  studentNumber: 15,
  studentName: 28,
  courseNumber: 14,
  courseName: 28,
  sectionNumber: 15,
  field: 16,
  oldValue: 20,
  newValue: 20,
  servingDistrictId: 19,
  servingDistrict: 26,
  servingSchoolId: 17,
  servingSchool: 26,
  homeDistrictId: 17,
  homeDistrict: 26,
  homeSchoolId: 15,
  homeSchool: 26,
  syncId: 38,
  app: 16,
  entity: 16,
  sourcedId: 24,
  outcome: 12,
  message: 60,
  cause: 30,
  state: 10,
}

type Worksheet = ExcelJS.Worksheet
type CellValue = string | Date | null

/**
 * Streams the log to an .xlsx file with exceljs' stream.xlsx.WorkbookWriter: header row bold + frozen,
 * autofilter, readable column widths, `date` as a real date cell (the tenant's local time with timeZones,
 * named in a note on its header, else UTC wall time; format 'yyyy-mm-dd hh:mm'),
 * other cells text, neutralized; a new worksheet ('Sync Log', 'Sync Log (2)', …) every maxRowsPerSheet
 * data rows (default 1_048_575); commits every row and yields to the event loop every 1000 rows so memory
 * stays flat; writes to `${path}.tmp` then renames (atomic). Returns row count.
 */
export async function writeLogXlsx(
  path: string,
  rows: AsyncIterable<LogRecord> | Iterable<LogRecord>,
  opts: XlsxLogOptions = {},
): Promise<number> {
  const checked = checkedOptions(opts)
  return writeFileAtomically(path, (out) => streamWorkbook(out, rows, checked))
}

/**
 * The same workbook as `writeLogXlsx`, streamed to `out` (an HTTP response, a pipe), which
 * exceljs ends when the workbook is complete. Not atomic: on failure `out` holds a partial file.
 */
export async function writeLogXlsxTo(
  out: NodeJS.WritableStream,
  rows: AsyncIterable<LogRecord> | Iterable<LogRecord>,
  opts: XlsxLogOptions = {},
): Promise<number> {
  return streamWorkbook(out, rows, checkedOptions(opts))
}

interface CheckedOptions {
  readonly maxRowsPerSheet: number
  readonly baseName: string
  readonly timeZones: TimeZones | undefined
}

function checkedOptions(opts: XlsxLogOptions): CheckedOptions {
  const maxRowsPerSheet = opts.maxRowsPerSheet ?? MAX_DATA_ROWS_PER_SHEET
  if (!Number.isInteger(maxRowsPerSheet) || maxRowsPerSheet < 1 || maxRowsPerSheet > MAX_DATA_ROWS_PER_SHEET) {
    throw new SynclogError('USAGE', `maxRowsPerSheet must be a whole number from 1 to ${MAX_DATA_ROWS_PER_SHEET}, got ${maxRowsPerSheet}`)
  }
  return { maxRowsPerSheet, baseName: safeSheetName(opts.sheetName ?? DEFAULT_SHEET_NAME), timeZones: opts.timeZones }
}

async function streamWorkbook(
  out: NodeJS.WritableStream,
  rows: AsyncIterable<LogRecord> | Iterable<LogRecord>,
  { maxRowsPerSheet, baseName, timeZones }: CheckedOptions,
): Promise<number> {
  // useStyles: without it exceljs drops numFmt and dates lose their time (docs/library-notes.md#exceljs).
  // Inline strings (no shared-string table) keep memory flat (same page).
  // exceljs' type says Stream; it only pipes the zip into it, which any writable stream accepts.
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out as unknown as Stream, useStyles: true, useSharedStrings: false })
  const failed = new Promise<never>((_, reject) => out.once('error', reject))
  failed.catch(() => undefined)

  const dateNote = dateNoteOf(timeZones)
  let sheet = openSheet(workbook, nthSheetName(baseName, 1), dateNote)
  let pacer = new SheetPacer(sheet, failed, YIELD_EVERY_ROWS)
  let sheetCount = 1
  let inSheet = 0
  let total = 0
  for await (const record of rows) {
    if (inSheet === maxRowsPerSheet) {
      // Finish a sheet before the next starts: the next one's rows would otherwise wait in memory.
      closeSheet(sheet, inSheet)
      sheet = openSheet(workbook, nthSheetName(baseName, ++sheetCount), dateNote)
      pacer = new SheetPacer(sheet, failed, YIELD_EVERY_ROWS)
      inSheet = 0
    }
    writeRecord(sheet, record, timeZones)
    inSheet++
    total++
    await pacer.afterRow(total)
  }
  closeSheet(sheet, inSheet)
  const committing = workbook.commit()
  committing.catch(() => undefined)
  await Promise.race([committing, failed])
  return total
}

/** The note on the Date header: the zone the dates are in (the rows stream past, so every configured tenant is named). */
function dateNoteOf(zones: TimeZones | undefined): string | undefined {
  if (zones === undefined) return undefined
  const others = zones.configured().map(([tenant, zone]) => `${tenant}: ${zone}`)
  return others.length === 0
    ? `Local time in ${zones.fallback}.`
    : `Local time of each row's tenant. ${others.join('; ')}; any other tenant: ${zones.fallback}.`
}

function openSheet(workbook: ExcelJS.stream.xlsx.WorkbookWriter, name: string, dateNote: string | undefined): Worksheet {
  const sheet = workbook.addWorksheet(name, {
    views: [{ state: 'frozen', xSplit: 0, ySplit: 1, topLeftCell: 'A2' }],
  })
  sheet.columns = LOG_COLUMNS.map((key) => ({ key, width: COLUMN_WIDTHS[key] }))
  const header = sheet.addRow(LOG_EXPORT_COLUMNS.map(([, title]) => title))
  header.font = { bold: true }
  if (dateNote !== undefined) header.getCell(DATE_COLUMN).note = dateNote
  header.commit()
  return sheet
}

function closeSheet(sheet: Worksheet, dataRows: number): void {
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: dataRows + 1, column: LOG_COLUMNS.length } }
  sheet.commit()
}

/**
 * One style object per kind of cell, shared by every cell: exceljs caches a
 * style's id by object identity, so shared objects are looked up once instead
 * of being serialised and matched for every cell (the export's hottest path).
 */
const TEXT_STYLE: Partial<ExcelJS.Style> = Object.freeze({})
const DATE_STYLE: Partial<ExcelJS.Style> = Object.freeze({ numFmt: DATE_FORMAT })

function writeRecord(sheet: Worksheet, record: LogRecord, zones: TimeZones | undefined): void {
  const row = sheet.addRow(LOG_COLUMNS.map((key) => cellValue(key, record, zones)))
  row.eachCell({ includeEmpty: true }, (cell, column) => {
    cell.style = column === DATE_COLUMN && cell.value instanceof Date ? DATE_STYLE : TEXT_STYLE
  })
  row.commit()
}

const DATE_COLUMN = LOG_COLUMNS.indexOf('date') + 1

/** `date` as a Date (Excel shows its UTC fields: the local time with zones); every other cell text, neutralized; blanks stay empty. */
function cellValue(key: LogColumn, record: LogRecord, zones: TimeZones | undefined): CellValue {
  const value = record[key] ?? ''
  if (key === 'date') {
    const shown = zones === undefined ? new Date(value) : wallClock(value, zones.zoneOf(record.tenant))
    if (shown !== null && !Number.isNaN(shown.getTime())) return shown
  }
  return value === '' ? null : neutralizeFormula(value)
}
