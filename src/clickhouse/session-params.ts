/**
 * Query parameters given to a chDB connection as `SET param_<name> = '…'` in front of the
 * query, instead of chDB's binding. chdb 3.4 runs every query with bound parameters one at a
 * time per process, whatever the connection (its binding is not safe to run at once), so an
 * analyst's long query with `param_*` values would make every read of the page wait for it.
 * Set on the connection's own session, the values take the same path as ClickHouse's
 * `param_*` over HTTP, and the query runs beside the others.
 *
 * Only for a lane whose queries are all checked first (the analyst lane): a value set this
 * way stays on the session, so a later query naming a parameter it was not given would see
 * it; src/sql/analyst-sql.ts refuses such a query before it runs.
 */
import type { ClickHouseClientConfigOptions } from '@clickhouse/client'

type ClientConnection = NonNullable<ClickHouseClientConfigOptions['connection']>

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
/** Above this, the SET would risk ClickHouse's 256 KiB limit on a query's text: such (short, checking) queries keep binding. */
const MAX_SET_BYTES = 64 * 1024

/** What chDB's binding does to a string value: its text in ClickHouse's escaped (TSV) form, which the engine parses as the declared type. */
const TSV_ESCAPES = new Map([
  ['\\', '\\\\'],
  ['\0', '\\0'],
  ['\b', '\\b'],
  ['\f', '\\f'],
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
])

function tsvEscaped(value: string): string {
  return value.replace(/[\\\0\b\f\n\r\t]/g, (c) => TSV_ESCAPES.get(c)!)
}

/** A ClickHouse string literal holding exactly `value`. */
function literal(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\0', '\\0')}'`
}

/** The query with its parameters set in front, or null to leave it to binding. */
function withParamsSet(query: string, params: Readonly<Record<string, unknown>> | undefined): string | null {
  const entries = Object.entries(params ?? {})
  if (entries.length === 0) return null
  const pairs: string[] = []
  for (const [name, value] of entries) {
    if (!PARAM_NAME.test(name) || typeof value !== 'string') return null
    pairs.push(`param_${name} = ${literal(tsvEscaped(value))}`)
  }
  const set = `SET ${pairs.join(', ')}`
  return Buffer.byteLength(set) > MAX_SET_BYTES ? null : `${set}; ${query}`
}

function rewrite<P extends { query: string; query_params?: Record<string, unknown> }>(params: P): P {
  const query = withParamsSet(params.query, params.query_params)
  if (query === null) return params
  const { query_params: _bound, ...rest } = params
  return { ...rest, query } as P
}

/** The connection, its queries' parameters set on its session rather than bound. */
export function sessionParams(connection: ClientConnection): ClientConnection {
  return {
    ping: (p) => connection.ping(p),
    query: (p) => connection.query(rewrite(p)),
    exec: (p) => connection.exec(rewrite(p)),
    command: (p) => connection.command(rewrite(p)),
    insert: (p) => connection.insert(p),
    close: () => connection.close(),
  }
}
