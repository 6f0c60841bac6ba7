/**
 * Instants between synclog (ISO-8601 with a zone) and ClickHouse
 * (`DateTime64(3, 'UTC')` written and read as `YYYY-MM-DD HH:mm:ss.sss`).
 * Pure: no clock, no local time zone. Text from users is read by
 * src/events/instant.ts.
 */
const CLICKHOUSE_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z?$/

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
