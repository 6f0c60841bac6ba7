/** One sync-log row as the exporters take it (the store's read model). */
export type { LogRecord } from '../clickhouse/types.js'
