/** `clever`: Clever-style error reports of a sync, one CSV per record type (sync-report.ts). */
import { writeSyncReports } from '../sync-report.js'
import { CSV_TYPE } from './csv.js'
import type { OutputFormat } from './format.js'

export const clever = {
  name: 'clever',
  label: 'Clever sync reports',
  file: { extension: 'csv', contentType: CSV_TYPE },

  report: writeSyncReports,
} as const satisfies OutputFormat
