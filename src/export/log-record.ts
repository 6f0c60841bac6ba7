import type { LogRow } from '../events/sync-log-event.js'

/** One sync-log row as the exporters take it: the event minus its discriminator. */
export type LogRecord = Omit<LogRow, 'kind'>
