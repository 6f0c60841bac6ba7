/**
 * The one grammar of dates and instants in synclog. An event's `occurredAt`, a
 * record's `dateLastModified` and dates, the log's `from`/`to` on the command
 * line and over HTTP, a bundle's occurredAt and the store's columns are all read
 * here. What it accepts as an instant is exactly what the sync log can hold
 * (`DateTime64(3, 'UTC')`). Pure, like the fold that uses it: no clock, no local
 * time zone, no `Date`.
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/

/** The range DateTime64 can hold; values outside it would be clamped silently. */
const MIN_YEAR = 1900
const MAX_YEAR = 2299

export const DAY_MS = 86_400_000

/** The accepted forms, as error messages and help texts name them. */
export const INSTANT_FORM = 'an ISO-8601 instant such as 2024-09-01T06:00:00Z or 2024-09-01T08:00:00+02:00 (no zone = UTC)'
export const DATE_OR_INSTANT_FORM = `a date (YYYY-MM-DD) or ${INSTANT_FORM}`

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28
  return [4, 6, 9, 11].includes(m) ? 30 : 31
}

function validDay(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m)
}

const MIN_MS = daysFromCivil(MIN_YEAR, 1, 1) * DAY_MS
const END_MS = daysFromCivil(MAX_YEAR + 1, 1, 1) * DAY_MS

/** True for a real calendar date written `YYYY-MM-DD`, of any year (birth and session dates are kept as text, not as instants). */
export function isCalendarDate(text: string): boolean {
  if (text.length !== 10 || text[4] !== '-' || text[7] !== '-') return false
  // Read without the regex: YYYY-MM-DD is the only form it takes.
  const century = twoDigits(text, 0)
  const year = twoDigits(text, 2)
  const month = twoDigits(text, 5)
  const day = twoDigits(text, 8)
  return century >= 0 && year >= 0 && month >= 0 && day >= 0 && validDay(century * 100 + year, month, day)
}

/** `YYYY-MM-DD` as the epoch millisecond of that UTC midnight; null if it is not a calendar date between MIN_YEAR and MAX_YEAR. */
export function parseDateOnly(text: string): number | null {
  const m = DATE_ONLY.exec(text)
  if (m === null) return null
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (!validDay(y, mo, d) || y < MIN_YEAR || y > MAX_YEAR) return null
  return daysFromCivil(y, mo, d) * DAY_MS
}

/**
 * The instants read last, with what they read as. The same few come again and again
 * (every event of a sync has its occurredAt, the records of an export share a few
 * dateLastModified values), and a lookup costs a fraction of the parse. Bounded:
 * emptied when full.
 */
const recentInstants = new Map<string, number | null>()
const RECENT_INSTANTS = 1_000

/**
 * An ISO-8601 instant (`2024-09-01T10:00:00Z`, `...+02:00`, `+0200` or `+02`,
 * fractions after `.` or `,`, a space instead of `T`, any case) as epoch
 * milliseconds; no zone means UTC. Null if it is not one, or falls outside
 * MIN_YEAR–MAX_YEAR in UTC.
 */
export function parseInstant(text: string): number | null {
  const canonical = canonicalInstant(text)
  if (canonical !== undefined) return canonical
  const known = recentInstants.get(text)
  if (known !== undefined) return known
  const millis = readInstant(text)
  if (recentInstants.size >= RECENT_INSTANTS) recentInstants.clear()
  recentInstants.set(text, millis)
  return millis
}

/** The digit at `at` (0-9), or -1. */
function digit(text: string, at: number): number {
  const c = text.charCodeAt(at) - 48
  return c >= 0 && c <= 9 ? c : -1
}

/** Two digits from `at` as a number, or -1. */
function twoDigits(text: string, at: number): number {
  const a = digit(text, at)
  const b = digit(text, at + 1)
  return a < 0 || b < 0 ? -1 : a * 10 + b
}

/**
 * The form every producer writes and the fold reads most, `YYYY-MM-DDTHH:MM:SSZ` or
 * `YYYY-MM-DDTHH:MM:SS.sssZ`, read without the regex: epoch milliseconds, null when it
 * is that form but not a valid instant, undefined when it is another form (readInstant
 * decides). Reads exactly as readInstant would.
 */
function canonicalInstant(text: string): number | null | undefined {
  const n = text.length
  if ((n !== 20 && n !== 24) || text.charCodeAt(n - 1) !== 90 /* Z */) return undefined
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':') return undefined
  const hi = twoDigits(text, 0)
  const lo = twoDigits(text, 2)
  const mo = twoDigits(text, 5)
  const d = twoDigits(text, 8)
  const h = twoDigits(text, 11)
  const mi = twoDigits(text, 14)
  const s = twoDigits(text, 17)
  let ms = 0
  if (n === 24) {
    const a = digit(text, 20)
    const b = digit(text, 21)
    const c = digit(text, 22)
    if (text[19] !== '.' || a < 0 || b < 0 || c < 0) return undefined
    ms = a * 100 + b * 10 + c
  }
  if (hi < 0 || lo < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return undefined
  const y = hi * 100 + lo
  if (!validDay(y, mo, d) || h > 23 || mi > 59 || s > 59) return null
  const epoch = daysFromCivil(y, mo, d) * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000 + ms
  return epoch < MIN_MS || epoch >= END_MS ? null : epoch
}

function readInstant(text: string): number | null {
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
  const epoch = daysFromCivil(y, mo, d) * DAY_MS + ((h * 60 + mi - offsetMinutes) * 60 + s) * 1000 + ms
  return epoch < MIN_MS || epoch >= END_MS ? null : epoch
}

/** A date (its UTC midnight) or an instant, as epoch milliseconds; null if it is neither. */
export function parseDateOrInstant(text: string): number | null {
  const canonical = canonicalInstant(text)
  if (canonical !== undefined) return canonical
  return parseDateOnly(text.trim()) ?? parseInstant(text)
}
