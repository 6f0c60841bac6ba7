/** `table`: aligned columns for people at a terminal; every value made safe to print. */
import { DISTRICT_KEY } from '../../clickhouse/types.js'
import type { LogRecord } from '../log-record.js'
import { terminalText } from '../terminal-text.js'
import { formatTextTable } from '../text-table.js'
import { COUNT_COLUMNS, DAILY_COLUMNS, SYNC_COLUMNS, countRows, type Columns } from './columns.js'
import type { OutputFormat } from './format.js'

const LOG_TABLE_COLUMNS: Columns = [
  ['date', 'Date'],
  ['action', 'Action'],
  ['studentNumber', 'Student Number'],
  ['studentName', 'Student Name'],
  ['courseNumber', 'Course Number'],
  ['courseName', 'Course Name'],
  ['sectionNumber', 'Section Number'],
  ['oldValue', 'Old Value'],
  ['newValue', 'New Value'],
  ['servingSchool', 'Serving School'],
  ['homeSchool', 'Home School'],
  ['sourcedId', 'Sourced ID'],
  ['message', 'Message'],
]

function write(out: NodeJS.WritableStream, text: string): void {
  out.write(text.endsWith('\n') ? text : `${text}\n`)
}

const shortDate = (iso: string): string => (iso ? iso.replace('T', ' ').slice(0, 19) : '')

async function logPage(out: NodeJS.WritableStream, rows: readonly LogRecord[], note?: string): Promise<void> {
  if (rows.length === 0) return write(out, 'No rows match.')
  write(
    out,
    formatTextTable(
      rows.map((r) => ({ ...r, date: shortDate(r.date) })) as unknown as Record<string, string | number>[],
      LOG_TABLE_COLUMNS,
      { maxWidth: 32 },
    ),
  )
  if (note) write(out, terminalText(note))
}

export const table = {
  name: 'table',
  label: 'Table',
  forPeople: true,

  async syncs(out, runs) {
    if (runs.length === 0) return write(out, 'No syncs yet. Import one with: synclog import <folder|zip> --tenant <district>')
    write(
      out,
      formatTextTable(
        runs.map((r) => ({ ...r, startedAt: shortDate(r.startedAt), endedAt: shortDate(r.endedAt) })),
        SYNC_COLUMNS,
        { maxWidth: 60 },
      ),
    )
  },

  async summary(out, summary) {
    write(out, terminalText(`Sync ${summary.syncId} · ${summary.tenant} · ${summary.app} · ${summary.status}`))
    write(
      out,
      `Started ${shortDate(summary.startedAt)}${summary.endedAt ? ` · completed ${shortDate(summary.endedAt)}` : ''}${summary.message ? `\n${terminalText(summary.message)}` : ''}`,
    )
    write(out, '')
    write(out, formatTextTable(countRows(summary.counts), COUNT_COLUMNS))
    for (const [school, s] of Object.entries(summary.bySchool ?? {})) {
      write(
        out,
        school === DISTRICT_KEY
          ? '\nDistrict-level records (districts, terms)'
          : `\n${terminalText(`${s.schoolName || school} (${school})`)}`,
      )
      write(out, formatTextTable(countRows(s.counts), COUNT_COLUMNS))
    }
  },

  async daily(out, days) {
    if (days.length === 0) return write(out, 'No syncs in these days.')
    write(
      out,
      formatTextTable(
        days.map((d) => ({ day: d.day, tenant: d.tenant, app: d.app, syncs: d.syncs, ...d.counts })),
        DAILY_COLUMNS,
      ),
    )
  },

  logPage,

  async drillDown(out, drill, note) {
    const school = drill.cell.schoolId === '' || drill.cell.schoolId === undefined ? DISTRICT_KEY : drill.cell.schoolId
    const outcomes = (drill.cell.outcomes ?? []).join(' or ')
    write(
      out,
      terminalText(
        `${drill.count} ${outcomes} ${drill.cell.entity} record(s) in ${school} for sync ${drill.cell.syncId}.${drill.note ? ` ${drill.note}` : ''}`,
      ),
    )
    await logPage(out, drill.rows, note)
  },
} as const satisfies OutputFormat
