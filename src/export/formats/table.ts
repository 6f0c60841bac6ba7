/** `table`: aligned columns for people at a terminal; every value made safe to print. */
import { DISTRICT_KEY } from '../../clickhouse/types.js'
import { causeLine } from '../cause-line.js'
import { TimeZones, systemTimeZone } from '../local-time.js'
import type { LogRecord } from '../log-record.js'
import { terminalText } from '../terminal-text.js'
import { formatTextTable } from '../text-table.js'
import { COUNT_COLUMNS, DAILY_COLUMNS, ROSTER_COLUMNS, SYNC_COLUMNS, countRows, type Columns } from './columns.js'
import { NOT_LOGGED_NOTE } from '../../clickhouse/sync-compare.js'
import { COMPARE_COUNT_COLUMNS, COMPARE_RECORD_COLUMNS, compareCountRows, compareRecordRow } from './compare-columns.js'
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

/** Without the tenants' zones, every time in the system's zone. */
const zonesOr = (zones: TimeZones | undefined): TimeZones => zones ?? new TimeZones(systemTimeZone())

async function logPage(out: NodeJS.WritableStream, rows: readonly LogRecord[], note?: string, zones?: TimeZones): Promise<void> {
  if (rows.length === 0) return write(out, 'No rows match.')
  const local = zonesOr(zones)
  write(
    out,
    formatTextTable(
      rows.map((r) => ({ ...r, date: local.show(r.date, r.tenant) })) as unknown as Record<string, string | number>[],
      LOG_TABLE_COLUMNS,
      { maxWidth: 32 },
    ),
  )
  write(out, terminalText(local.note(rows.map((r) => r.tenant))))
  if (note) write(out, terminalText(note))
}

export const table = {
  name: 'table',
  label: 'Table',
  forPeople: true,

  async syncs(out, runs, zones) {
    if (runs.length === 0) return write(out, 'No syncs yet. Import one with: synclog import <folder|zip> --tenant <district>')
    const local = zonesOr(zones)
    write(
      out,
      formatTextTable(
        runs.map((r) => ({
          ...r,
          startedAt: local.show(r.startedAt, r.tenant),
          endedAt: local.show(r.endedAt, r.tenant),
          reviewedAt: local.show(r.reviewedAt, r.tenant),
        })),
        SYNC_COLUMNS,
        { maxWidth: 60 },
      ),
    )
    write(out, terminalText(local.note(runs.map((r) => r.tenant))))
  },

  async summary(out, summary, zones) {
    const local = zonesOr(zones)
    const at = (iso: string): string => local.show(iso, summary.tenant)
    write(out, terminalText(`Sync ${summary.syncId} · ${summary.tenant} · ${summary.app} · ${summary.status}`))
    write(
      out,
      terminalText(
        `Started ${at(summary.startedAt)}${summary.endedAt ? ` · completed ${at(summary.endedAt)}` : ''} (${local.zoneOf(summary.tenant)})`,
      ) + (summary.message ? `\n${terminalText(summary.message)}` : ''),
    )
    if (summary.reviewedBy !== '')
      write(
        out,
        terminalText(`Reviewed by ${summary.reviewedBy} at ${at(summary.reviewedAt)}: ${summary.reviewReason || '(no reason given)'}`),
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

  async drillDown(out, drill, note, zones) {
    const school = drill.cell.schoolId === '' || drill.cell.schoolId === undefined ? DISTRICT_KEY : drill.cell.schoolId
    const outcomes = (drill.cell.outcomes ?? []).join(' or ')
    write(
      out,
      terminalText(
        `${drill.count} ${outcomes} ${drill.cell.entity} record(s) in ${school} for sync ${drill.cell.syncId}.${drill.note ? ` ${drill.note}` : ''}`,
      ),
    )
    await logPage(out, drill.rows, note, zones)
  },

  async compare(out, cmp, note, zones) {
    const local = zonesOr(zones)
    for (const [side, s] of [
      ['A', cmp.a],
      ['B', cmp.b],
    ] as const) {
      const ended = s.endedAt ? ` · completed ${local.show(s.endedAt, s.tenant)}` : ''
      write(out, terminalText(`${side}: sync ${s.syncId} · ${s.app} · ${s.status} · started ${local.show(s.startedAt, s.tenant)}${ended}`))
    }
    write(out, terminalText(`Tenant ${cmp.a.tenant}; times in ${local.zoneOf(cmp.a.tenant)}.`))
    write(out, '')
    write(out, cmp.counts.length === 0 ? 'No counts in either sync.' : formatTextTable(compareCountRows(cmp), COMPARE_COUNT_COLUMNS))
    write(out, '')
    if (cmp.differing === 0) return write(out, 'No record has a different outcome in the two syncs.')
    const shown = cmp.records.length < cmp.differing ? ` (the first ${cmp.records.length})` : ''
    write(out, `${cmp.differing} record${cmp.differing === 1 ? '' : 's'} with a different outcome${shown}:`)
    write(out, formatTextTable(cmp.records.map(compareRecordRow), COMPARE_RECORD_COLUMNS, { maxWidth: 32 }))
    write(out, `(${NOT_LOGGED_NOTE}.)`)
    if (note) write(out, terminalText(note))
  },

  async causes(out, groups, uncaused, zones) {
    const { syncId } = groups
    if (groups.groups.length === 0) write(out, terminalText(`No row of sync ${syncId} was caused by another record.`))
    for (const g of groups.groups) write(out, terminalText(causeLine(g)))
    if (groups.uncaused.rows === 0) return
    const { rows, records } = groups.uncaused
    write(out, '')
    write(out, terminalText(`${records} record${records === 1 ? '' : 's'} with errors of their own (${rows} row${rows === 1 ? '' : 's'}):`))
    await logPage(out, uncaused, undefined, zones)
  },

  async roster(out, roster, zones) {
    const local = zonesOr(zones)
    const tenant = roster.tenant ?? roster.lines[0]?.tenant ?? ''
    const [whose, unit] =
      roster.section !== undefined ? [`Section ${roster.section}`, 'student'] : [`Student ${roster.student ?? ''}`, 'section']
    const n = roster.lines.length
    write(out, terminalText(`${whose} at ${local.show(roster.at, tenant)} (${local.zoneOf(tenant)}): ${n} ${unit}${n === 1 ? '' : 's'}`))
    if (n === 0) return
    const lines = roster.lines.map((l) => ({ ...l, since: local.show(l.since, l.tenant) }))
    write(out, formatTextTable(lines, ROSTER_COLUMNS, { maxWidth: 32 }))
    write(out, terminalText(local.note(roster.lines.map((l) => l.tenant))))
  },
} as const satisfies OutputFormat
