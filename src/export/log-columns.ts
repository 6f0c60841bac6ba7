import { LOG_COLUMN_HEADERS, LOG_COLUMNS, type LogColumn } from '../events/sync-log-event.js'

/** `[key, human header]` for every log column, in the order the log is shown everywhere. */
export const LOG_EXPORT_COLUMNS: readonly (readonly [LogColumn, string])[] = LOG_COLUMNS.map(
  (column) => [column, LOG_COLUMN_HEADERS[column]] as const,
)
