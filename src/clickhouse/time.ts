/**
 * Instants between synclog (ISO-8601 with a zone) and ClickHouse
 * (`DateTime64(3, 'UTC')` written and read as `YYYY-MM-DD HH:mm:ss.sss`).
 * Pure: no clock, no local time zone.
 */
import { MAX_YEAR, MIN_YEAR, validDay } from '../events/instant.js'

export { parseInstant } from '../events/instant.js'

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/
const CLICKHOUSE_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z?$/

/** `YYYY-MM-DD` as the epoch millisecond of that UTC midnight, or null if it is not a calendar date. */
export function parseDateOnly(text: string): number | null {
  const m = DATE_ONLY.exec(text)
  if (m === null) return null
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (!validDay(y, mo, d) || y < MIN_YEAR || y > MAX_YEAR) return null
  return Date.UTC(y, mo - 1, d)
}

/** Epoch milliseconds as ClickHouse `DateTime64(3)` text in UTC: `YYYY-MM-DD HH:mm:ss.sss`. */
export function toClickHouseText(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '')
}

/** ClickHouse DateTime64 text (UTC column) as `YYYY-MM-DDTHH:mm:ss.sssZ`; null if it is not one. */
export function fromClickHouseText(text: string): string | null {
  const m = CLICKHOUSE_TEXT.exec(text)
  if (m === null) return null
  return `${m[1]}T${m[2]}.${(m[3] ?? '').slice(0, 3).padEnd(3, '0')}Z`
}

export const DAY_MS = 86_400_000
