/**
 * Foreign errors of the ClickHouse client and chDB, mapped once to SynclogError.
 * Classification reads the machine codes the libraries set (`code` on Node
 * socket errors, the numeric ClickHouse exception code), never names or prose.
 */
import { SynclogError } from '../errors.js'

/** Socket-level failures: the store may be back in a moment. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
])

/** ClickHouse exception codes that describe load or transient trouble, not a bad request. */
const TRANSIENT_CLICKHOUSE_CODES = new Set([
  '159', // TIMEOUT_EXCEEDED
  '202', // TOO_MANY_SIMULTANEOUS_QUERIES
  '203', // NO_FREE_CONNECTION
  '209', // SOCKET_TIMEOUT
  '210', // NETWORK_ERROR
  '241', // MEMORY_LIMIT_EXCEEDED
  '252', // TOO_MANY_PARTS
  '425', // SYSTEM_ERROR
])

const MAX_MESSAGE = 600

/**
 * The `code` of a Node socket error or of a ClickHouseError. Read structurally:
 * chDB builds its ClickHouseError from its own copy of client-common, so
 * `instanceof` against @clickhouse/client's class would miss it.
 */
function codeOf(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = (e as { code: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}

/** The first line of an error's message, kept short (ClickHouse messages can quote whole queries). */
export function shortMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e)
  const line = text.split('\n', 1)[0] ?? ''
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line
}

/**
 * @clickhouse/client's own request timeout (`request_timeout`, 30 s by default; also a
 * `?request_timeout=` of the URL) rejects with a plain Error that has no code: its fixed
 * message is the only mark it carries (connection/socket_pool.js, 1.23). A store that did
 * not answer in time is unavailable, not wrong, so the write is worth doing again.
 */
const CLIENT_TIMEOUT_MESSAGE = 'Timeout error.'

function isClientTimeout(e: unknown): boolean {
  return e instanceof Error && codeOf(e) === undefined && e.message === CLIENT_TIMEOUT_MESSAGE
}

/** True for errors worth retrying against the same store (network trouble, a timeout, overload). */
export function isTransient(e: unknown): boolean {
  const code = codeOf(e)
  if (code === undefined) return isClientTimeout(e)
  return NETWORK_CODES.has(code) || TRANSIENT_CLICKHOUSE_CODES.has(code)
}

/** Map an error thrown while the store did `what` (e.g. "write sync_log rows"). SynclogErrors pass through. */
export function toStoreError(e: unknown, what: string): SynclogError {
  if (e instanceof SynclogError) return e
  const code = isTransient(e) ? 'STORE_UNAVAILABLE' : 'STORE_FAILED'
  return new SynclogError(code, `ClickHouse could not ${what}: ${shortMessage(e)}`, { cause: e })
}
