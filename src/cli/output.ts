/**
 * How the read commands print: `table` for people, `json` and `csv` for scripts.
 */
import { formatTextTable } from '../export/text-table.js'
import { terminalJson, terminalText } from '../export/terminal-text.js'
import { whileReaderThere } from './command-output.js'
import { writeCsv } from '../export/csv-writer.js'
import { LOG_EXPORT_COLUMNS } from '../export/log-columns.js'
import type { LogRecord } from '../export/log-record.js'
import type { DailyRollup, SyncRun, SyncSummary } from '../clickhouse/sync-log-store.js'
import { SynclogError } from '../errors.js'
import { LOG_COLUMNS } from '../events/sync-log-event.js'

export const FORMATS = ['table', 'json', 'csv'] as const
export type Format = (typeof FORMATS)[number] | 'xlsx'

export function parseFormat(value: string | undefined, allowed: readonly string[]): Format {
  const format = value ?? 'table'
  if (!allowed.includes(format)) throw new SynclogError('USAGE', `--format must be one of ${allowed.join(', ')} (got '${format}')`)
  return format as Format
}

/** JSON for stdout: exact data, with what JSON leaves raw (C1 controls, bidi overrides) escaped too. */
export function toJson(value: unknown, indent?: number): string {
  return terminalJson(JSON.stringify(value, null, indent))
}

type Columns = readonly (readonly [string, string])[]

const SYNC_COLUMNS: Columns = [
  ['startedAt', 'Started'], ['syncId', 'Sync ID'], ['tenant', 'Tenant'], ['app', 'App'], ['status', 'Status'],
  ['total', 'Records'], ['errors', 'Errors'], ['endedAt', 'Completed'], ['message', 'Message'],
]

/** The Amplify summary columns, in their order. */
export const COUNT_COLUMNS: Columns = [
  ['entity', 'Data type'], ['total', 'Total'], ['noChange', 'No Change'], ['new', 'New'], ['updated', 'Updated'],
  ['deleted', 'Deleted'], ['skipped', 'Skipped'], ['duplicates', 'Duplicates'], ['merged', 'Merged'],
  ['excluded', 'Excluded'], ['invalid', 'Invalid'],
]

const LOG_TABLE_COLUMNS: Columns = [
  ['date', 'Date'], ['action', 'Action'], ['studentNumber', 'Student Number'], ['studentName', 'Student Name'],
  ['courseNumber', 'Course Number'], ['courseName', 'Course Name'], ['sectionNumber', 'Section Number'],
  ['oldValue', 'Old Value'], ['newValue', 'New Value'], ['servingSchool', 'Serving School'], ['homeSchool', 'Home School'],
  ['sourcedId', 'Sourced ID'], ['message', 'Message'],
]

const ENTITY_ORDER = ['org', 'academicSession', 'course', 'user', 'class', 'enrollment']
const byEntityOrder = (a: string, b: string): number => ENTITY_ORDER.indexOf(a) - ENTITY_ORDER.indexOf(b)

function write(out: NodeJS.WritableStream, text: string): void {
  out.write(text.endsWith('\n') ? text : `${text}\n`)
}

const shortDate = (iso: string): string => (iso ? iso.replace('T', ' ').slice(0, 19) : '')

export async function printSyncs(out: NodeJS.WritableStream, runs: readonly SyncRun[], format: Format): Promise<void> {
  if (format === 'json') return write(out, toJson(runs, 2))
  if (format === 'csv') {
    await writeCsv(out, runs as unknown as Record<string, string | number>[], SYNC_COLUMNS)
    return
  }
  if (runs.length === 0) return write(out, 'No syncs yet. Import one with: synclog import <folder|zip> --tenant <district>')
  write(out, formatTextTable(runs.map((r) => ({ ...r, startedAt: shortDate(r.startedAt), endedAt: shortDate(r.endedAt) })), SYNC_COLUMNS, { maxWidth: 60 }))
}

function countRows(counts: SyncSummary['counts']): Record<string, string | number>[] {
  return Object.entries(counts).sort(([a], [b]) => byEntityOrder(a, b)).map(([entity, c]) => ({ entity, ...c }))
}

export async function printSummary(out: NodeJS.WritableStream, summary: SyncSummary, format: Format): Promise<void> {
  if (format === 'json') return write(out, toJson(summary, 2))
  if (format === 'csv') {
    const rows = countRows(summary.counts).map((r) => ({ school: '', schoolName: '(all schools)', ...r }))
    for (const [school, s] of Object.entries(summary.bySchool ?? {})) {
      rows.push(...countRows(s.counts).map((r) => ({ school, schoolName: s.schoolName, ...r })))
    }
    await writeCsv(out, rows, [['school', 'School ID'], ['schoolName', 'School'], ...COUNT_COLUMNS])
    return
  }
  write(out, terminalText(`Sync ${summary.syncId} · ${summary.tenant} · ${summary.app} · ${summary.status}`))
  write(out, `Started ${shortDate(summary.startedAt)}${summary.endedAt ? ` · completed ${shortDate(summary.endedAt)}` : ''}${summary.message ? `\n${terminalText(summary.message)}` : ''}`)
  write(out, '')
  write(out, formatTextTable(countRows(summary.counts), COUNT_COLUMNS))
  for (const [school, s] of Object.entries(summary.bySchool ?? {})) {
    write(out, school === '(district)' ? '\nDistrict-level records (districts, terms)' : `\n${terminalText(`${s.schoolName || school} (${school})`)}`)
    write(out, formatTextTable(countRows(s.counts), COUNT_COLUMNS))
  }
}

export async function printLog(out: NodeJS.WritableStream, rows: readonly LogRecord[], format: Format, note?: string): Promise<void> {
  if (format === 'json') {
    for (const row of rows) out.write(`${toJson(Object.fromEntries(LOG_COLUMNS.map((c) => [c, row[c]])))}\n`)
    return
  }
  if (format === 'csv') {
    await writeCsv(out, rows as unknown as Record<string, string | number>[], LOG_EXPORT_COLUMNS)
    return
  }
  if (rows.length === 0) return write(out, 'No rows match.')
  write(out, formatTextTable(rows.map((r) => ({ ...r, date: shortDate(r.date) })) as unknown as Record<string, string | number>[], LOG_TABLE_COLUMNS, { maxWidth: 32 }))
  if (note) write(out, terminalText(note))
}

/** All rows as NDJSON or CSV as they come (memory bounded by the source's page). */
export async function printLogStream(out: NodeJS.WritableStream, all: AsyncIterable<LogRecord>, format: 'json' | 'csv'): Promise<number> {
  // A reader that went away (`| head`) stops the query too.
  const rows = whileReaderThere(all, out)
  if (format === 'csv') return writeCsv(out, rows as AsyncIterable<unknown> as AsyncIterable<Record<string, string | number>>, LOG_EXPORT_COLUMNS)
  let n = 0
  for await (const row of rows) {
    const line = `${toJson(Object.fromEntries(LOG_COLUMNS.map((c) => [c, row[c]])))}\n`
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    n++
  }
  return n
}

const DAILY_COLUMNS: Columns = [['day', 'Day'], ['tenant', 'Tenant'], ['app', 'App'], ['syncs', 'Syncs'], ...COUNT_COLUMNS.slice(1)]

export async function printDaily(out: NodeJS.WritableStream, days: readonly DailyRollup[], format: Format): Promise<void> {
  if (format === 'json') return write(out, toJson(days, 2))
  const rows = days.map((d) => ({ day: d.day, tenant: d.tenant, app: d.app, syncs: d.syncs, ...d.counts }))
  if (format === 'csv') {
    await writeCsv(out, rows, DAILY_COLUMNS)
    return
  }
  if (rows.length === 0) return write(out, 'No syncs in these days.')
  write(out, formatTextTable(rows, DAILY_COLUMNS))
}
