/**
 * What one analyst's SQL query may use of the store (`synclog sql` and the
 * ClickHouse HTTP endpoint of `synclog serve --sql-port`): time, memory, rows
 * read, result size. Each has a default, a config key (`sql.<name>` in
 * synclog.config.json) and an environment variable. They reach the engine as
 * the query's own SETTINGS, after the query has been checked to carry none.
 */
import { z } from 'zod'
import { layeredValues, parseSize } from './limits.js'

export interface SqlLimits {
  /** Seconds a query may run (`max_execution_time`). */
  readonly maxExecutionSeconds: number
  /** Bytes of memory a query may use (`max_memory_usage`). */
  readonly maxMemoryBytes: number
  /** Rows a query may read from tables (`max_rows_to_read`); 0 = no limit. */
  readonly maxRowsToRead: number
  /** Rows a result may have (`max_result_rows`). */
  readonly maxResultRows: number
  /** Bytes a result may have, uncompressed (`max_result_bytes`). */
  readonly maxResultBytes: number
}

const MiB = 1024 * 1024

export const DEFAULT_SQL_LIMITS: SqlLimits = {
  maxExecutionSeconds: 30,
  maxMemoryBytes: 1024 * MiB,
  maxRowsToRead: 0,
  maxResultRows: 1_000_000,
  maxResultBytes: 256 * MiB,
}

export const SQL_LIMIT_ENV: { readonly [K in keyof SqlLimits]: string } = {
  maxExecutionSeconds: 'SYNCLOG_SQL_MAX_EXECUTION_SECONDS',
  maxMemoryBytes: 'SYNCLOG_SQL_MAX_MEMORY_BYTES',
  maxRowsToRead: 'SYNCLOG_SQL_MAX_ROWS_TO_READ',
  maxResultRows: 'SYNCLOG_SQL_MAX_RESULT_ROWS',
  maxResultBytes: 'SYNCLOG_SQL_MAX_RESULT_BYTES',
}

const bytes = z
  .unknown()
  .transform(parseSize)
  .pipe(
    z
      .number({ error: 'a size in bytes, e.g. 1073741824 or 1GiB' })
      .int()
      .min(1024 * 1024)
      .max(Number.MAX_SAFE_INTEGER),
  )

export const SqlLimitsSchema = z.object({
  maxExecutionSeconds: z.coerce.number().positive().max(86_400),
  maxMemoryBytes: bytes,
  maxRowsToRead: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  maxResultRows: z.coerce.number().int().min(1000).max(Number.MAX_SAFE_INTEGER),
  maxResultBytes: bytes,
})

/** The raw layers for `sql` (environment over file over defaults), validated with the rest of the config. */
export function rawSqlLimits(file: unknown, env: Readonly<Record<string, string | undefined>>): Record<keyof SqlLimits, unknown> {
  return layeredValues(file, env, SQL_LIMIT_ENV, DEFAULT_SQL_LIMITS)
}

/**
 * The SETTINGS every analyst query runs with: read-only (no writes, no DDL, no
 * settings changes, no table functions that reach files, URLs or processes),
 * the limits, and ClickHouse's own output defaults (64-bit integers quoted in
 * JSON), whatever synclog's own session uses.
 */
export function sqlSettings(limits: SqlLimits, output: ReadonlyMap<string, string>): string {
  const pairs: string[] = [
    'readonly = 1',
    `max_execution_time = ${limits.maxExecutionSeconds}`,
    "timeout_overflow_mode = 'throw'",
    `max_memory_usage = ${limits.maxMemoryBytes}`,
    `max_rows_to_read = ${limits.maxRowsToRead}`,
    "read_overflow_mode = 'throw'",
    `max_result_rows = ${limits.maxResultRows}`,
    `max_result_bytes = ${limits.maxResultBytes}`,
    "result_overflow_mode = 'throw'",
    'allow_introspection_functions = 0',
  ]
  const quote64 = output.get('output_format_json_quote_64bit_integers') ?? '1'
  pairs.push(`output_format_json_quote_64bit_integers = ${quote64 === '0' ? 0 : 1}`)
  for (const [name, value] of output) {
    if (name === 'output_format_json_quote_64bit_integers') continue
    pairs.push(`${name} = '${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`)
  }
  return pairs.join(', ')
}

/** How to raise a limit, for the end of an error message. */
export function howToRaiseSql(key: keyof SqlLimits): string {
  return `raise it with sql.${key} in synclog.config.json or the environment variable ${SQL_LIMIT_ENV[key]}`
}
