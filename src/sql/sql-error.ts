/**
 * An analyst's query that synclog refuses or the engine failed, with the
 * ClickHouse error code and name a ClickHouse client expects
 * (`Code: 164. DB::Exception: … (READONLY)`).
 */
import { SynclogError } from '../errors.js'

/** The ClickHouse errors synclog itself raises for analyst SQL. */
export const CLICKHOUSE_ERRORS = {
  SYNTAX_ERROR: 62,
  UNKNOWN_DATABASE: 81,
  UNKNOWN_FORMAT: 73,
  QUERY_IS_TOO_LARGE: 202,
  READONLY: 164,
  ACCESS_DENIED: 497,
  AUTHENTICATION_FAILED: 516,
  UNKNOWN_SETTING: 115,
  BAD_ARGUMENTS: 36,
  UNKNOWN_QUERY_PARAMETER: 456,
} as const

export type ClickHouseErrorName = keyof typeof CLICKHOUSE_ERRORS

export class SqlError extends SynclogError {
  constructor(
    /** ClickHouse's error code (`164`). */
    readonly clickhouseCode: number,
    /** ClickHouse's error name (`READONLY`). */
    readonly clickhouseName: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('USAGE', message, options)
  }
}

/** A refusal of synclog's own, by ClickHouse error name. */
export function refused(name: ClickHouseErrorName, message: string): SqlError {
  return new SqlError(CLICKHOUSE_ERRORS[name], name, message)
}

/** An error of the engine (a ClickHouseError of @clickhouse/client), its code and name kept. */
export function engineError(e: unknown): SqlError {
  if (e instanceof SqlError) return e
  const err = e as { code?: unknown; type?: unknown; message?: unknown }
  const code = Number(err.code)
  const name = typeof err.type === 'string' && /^[A-Z0-9_]+$/.test(err.type) ? err.type : 'UNKNOWN_EXCEPTION'
  const message = (typeof err.message === 'string' ? err.message : String(e)).trim().replace(/\.$/, '')
  return new SqlError(Number.isSafeInteger(code) && code > 0 ? code : 1002, name, message, { cause: e })
}
