/**
 * Instants as the sync log stores them (`DateTime64(3, 'UTC')`): what the
 * processor accepts in an event's `occurredAt` is exactly what the store can
 * hold. Pure: no clock, no local time zone.
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i

/** The range DateTime64 can hold; values outside it would be clamped silently. */
export const MIN_YEAR = 1900
export const MAX_YEAR = 2299

export function validDay(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d))
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d
}

/**
 * An ISO-8601 instant (`2024-09-01T10:00:00Z`, `...+02:00`, fractions, a space
 * instead of `T`) as epoch milliseconds; no zone means UTC. Null if unparsable.
 */
export function parseInstant(text: string): number | null {
  const m = DATE_TIME.exec(text.trim())
  if (m === null) return null
  const [y, mo, d, h, mi] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])]
  const s = m[6] === undefined ? 0 : Number(m[6])
  if (!validDay(y, mo, d) || h > 23 || mi > 59 || s > 59) return null
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'))
  let offsetMinutes = 0
  const zone = m[8]
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '')
    const oh = Number(digits.slice(0, 2))
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
    if (oh > 23 || om > 59) return null
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om)
  }
  const epoch = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMinutes * 60_000
  const year = new Date(epoch).getUTCFullYear()
  return year < MIN_YEAR || year > MAX_YEAR ? null : epoch
}

