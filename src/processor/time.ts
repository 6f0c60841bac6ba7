/**
 * Calendar arithmetic without a clock: the fold never reads the time, it only
 * compares the instants and dates that arrive in events.
 */

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const INSTANT_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/

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

/** True for a real calendar date written `YYYY-MM-DD`. */
export function isCalendarDate(text: string): boolean {
  const m = DATE_RE.exec(text)
  if (!m) return false
  const month = Number(m[2])
  const day = Number(m[3])
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(m[1]), month)
}

/** Milliseconds since the epoch of an ISO-8601 date or date-time (no zone = UTC), or null when unparsable. */
export function instantMillis(text: string): number | null {
  const m = INSTANT_RE.exec(text.trim())
  if (!m) return null
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return null
  let offsetMinutes = 0
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)))
  }
  const millis = Number((frac + '000').slice(0, 3))
  return (
    daysFromCivil(year, month, day) * 86_400_000 +
    Number(h) * 3_600_000 + Number(mi) * 60_000 + Number(s) * 1000 + millis - offsetMinutes * 60_000
  )
}

/** The UTC calendar date (`YYYY-MM-DD`) of an ISO instant; the first ten characters when it cannot be parsed. */
export function calendarDateOf(instant: string): string {
  return instant.slice(0, 10)
}
