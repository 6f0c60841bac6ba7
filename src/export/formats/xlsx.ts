/** `xlsx`: the log as an Excel workbook, streamed (xlsx-log-writer.ts); only ever written to a file or a download. */
import { writeLogXlsxTo } from '../xlsx-log-writer.js'
import type { OutputFormat } from './format.js'

export const xlsx = {
  name: 'xlsx',
  label: 'Excel',
  file: { extension: 'xlsx', contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  binary: true,
  fileNote:
    "An .xlsx workbook: frozen header row, autofilter, dates as date cells in each tenant's local time (named in a note on the Date header), a new sheet past Excel's row limit.",

  log: (out, rows, zones) => writeLogXlsxTo(out, rows, { timeZones: zones }),
} as const satisfies OutputFormat
