/**
 * Calendar arithmetic without a clock: the fold never reads the time, it only
 * compares the instants and dates that arrive in events. Dates and instants are
 * read with the one grammar of src/events/instant.ts.
 */
import { parseDateOrInstant } from '../events/instant.js'

export { isCalendarDate } from '../events/instant.js'

/** Milliseconds since the epoch of a date (UTC midnight) or an ISO-8601 instant (no zone = UTC), or null when it is neither. */
export function instantMillis(text: string): number | null {
  return parseDateOrInstant(text)
}

/** The UTC calendar date (`YYYY-MM-DD`) of an ISO instant; the first ten characters when it cannot be parsed. */
export function calendarDateOf(instant: string): string {
  return instant.slice(0, 10)
}
