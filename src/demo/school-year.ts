/**
 * The demo's calendar follows the clock of whoever runs it: its data is for the
 * school year in progress, so rosters are active when it is imported.
 */
import type { OneRosterTables, Row } from './write-oneroster.js'

/** The school year (named by its end year, as OneRoster's `schoolYear`) that `now` falls in; years turn over on 1 July. */
export function currentSchoolYear(now: Date): number {
  return now.getUTCMonth() >= 6 ? now.getUTCFullYear() + 1 : now.getUTCFullYear()
}

const DATE = /\b(\d{4})-(\d{2})-(\d{2})\b/g
const YEAR = /\b(20\d{2})\b/g

function shiftDate(text: string, years: number): string {
  return text.replace(DATE, (_, y: string, m: string, d: string) => {
    const year = Number(y) + years
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
    const day = m === '02' && d === '29' && !leap ? '28' : d
    return `${year}-${m}-${day}`
  })
}

const DATE_COLUMNS = ['startDate', 'endDate', 'beginDate']
const YEAR_COLUMNS = ['title', 'schoolYear']

/** Moves every date of the tables (and the years in term titles) by `years`. Ids stay as they are. */
export function shiftTables(tables: OneRosterTables, years: number): OneRosterTables {
  if (years === 0) return tables
  const shiftRow = (row: Row, yearColumns: readonly string[]): Row => {
    const out = new Map(Object.entries(row))
    const edit = (c: string, f: (v: string) => string): void => {
      const v = out.get(c)
      if (v) out.set(c, f(v))
    }
    for (const c of DATE_COLUMNS) edit(c, (v) => shiftDate(v, years))
    for (const c of yearColumns) edit(c, (v) => v.replace(YEAR, (y) => String(Number(y) + years)))
    return Object.fromEntries(out)
  }
  return {
    ...tables,
    academicSessions: tables.academicSessions.map((r) => shiftRow(r, YEAR_COLUMNS)),
    enrollments: tables.enrollments.map((r) => shiftRow(r, [])),
  }
}

export function shiftStory(lines: readonly string[], years: number): string[] {
  return lines.map((l) => shiftDate(l, years))
}
