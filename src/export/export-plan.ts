/**
 * What a scheduled export run will write: its files, the syncs and rows of each,
 * and how to read those rows back from the store. Reads the store, writes nothing.
 *
 * One file per run: every final sync that has rows. Per school: a first pass over
 * each sync's rows finds the schools on the chosen side and counts their rows (a
 * map of schools, not of rows); each school's file then reads its rows with a
 * school filter, and the file of rows with no school on the side reads the whole
 * syncs and keeps those rows.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { LogFilter, LogPage, Scope, ScopeSide, SyncListFilter, SyncRun } from '../clickhouse/types.js'
import { syncKey } from './export-checkpoint.js'
import { exportFileName } from './export-file-names.js'
import type { LogFileFormat } from './formats/index.js'
import type { LogRecord } from './log-record.js'

/** What a run reads: the store's listing and streaming (a SyncLogStore fits). */
export interface ExportSource {
  listSyncs(scope: Scope, filter: SyncListFilter): Promise<SyncRun[]>
  queryLog(scope: Scope, filter: LogFilter, page?: { limit?: number; cursor?: string }): Promise<LogPage>
  streamLog(scope: Scope, filter: LogFilter): AsyncIterable<LogRecord>
}

/** The operator's scope: the CLI runs on the whole store and narrows with filters. */
export const OPERATOR: Scope = {}

export interface PlanOptions {
  readonly name: string
  readonly outDir: string
  readonly format: LogFileFormat
  readonly side: ScopeSide
  readonly tenant?: string
  readonly school?: string
  /** Count every file's rows exactly (a real single-file run counts them while writing instead). */
  readonly dryRun: boolean
}

export interface FilePlan {
  readonly path: string
  /** Rows the plan counted, or null when a single-file run counts them while writing. */
  readonly rows: number | null
  readonly tenant?: string
  readonly schoolId?: string
  /** The syncs with rows in this file, newest first; each sync's rows come newest first. */
  readonly syncs: readonly SyncRun[]
  filterOf(run: SyncRun): LogFilter
  /** Rows the filter cannot select (no school on the side) are picked here. */
  keep?(row: LogRecord): boolean
}

/** The log filter of one sync's rows for this export. */
export function syncFilter(run: SyncRun, opts: PlanOptions): LogFilter {
  const filter: LogFilter = { tenant: run.tenant, syncId: run.syncId, includeRejected: false }
  return opts.school === undefined ? filter : { ...filter, school: opts.school, schoolSide: opts.side }
}

export interface Plan {
  readonly files: FilePlan[]
  /** Rows of each sync (by syncKey) in the files, as far as the plan counted them. */
  readonly rowsBySync: Map<string, number>
}

/** One file with the rows of every sync that has any. */
export async function planOneFile(source: ExportSource, opts: PlanOptions, final: readonly SyncRun[], stampMs: number): Promise<Plan> {
  const rowsBySync = new Map<string, number>()
  const syncs: SyncRun[] = []
  let rows = 0
  for (const run of final) {
    const filter = syncFilter(run, opts)
    // A dry run says how many rows it would write; a real run only asks whether there are any, and counts while writing.
    const n = opts.dryRun
      ? await countRows(source.streamLog(OPERATOR, filter))
      : (await source.queryLog(OPERATOR, filter, { limit: 1 })).rows.length
    if (n === 0) continue
    if (opts.dryRun) rowsBySync.set(syncKey(run.tenant, run.syncId), n)
    syncs.push(run)
    rows += n
  }
  if (syncs.length === 0) return { files: [], rowsBySync }
  const path = await freePath(opts.outDir, exportFileName(opts.name, stampMs, opts.format.file.extension), new Set())
  return { rowsBySync, files: [{ path, rows: opts.dryRun ? rows : null, syncs, filterOf: (run) => syncFilter(run, opts) }] }
}

interface SchoolGroup {
  readonly tenant: string
  readonly schoolId: string
  schoolName: string
  rows: number
  /** The syncs with rows for this school, newest first. */
  readonly syncs: SyncRun[]
}

/** One file per school with rows (and one for rows with no school on the side), from a first pass over each sync. */
export async function planPerSchool(source: ExportSource, opts: PlanOptions, final: readonly SyncRun[], stampMs: number): Promise<Plan> {
  const rowsBySync = new Map<string, number>()
  const groups = new Map<string, SchoolGroup>()
  for (const run of final) {
    let n = 0
    for await (const row of source.streamLog(OPERATOR, syncFilter(run, opts))) {
      n++
      for (const school of schoolsOf(row, opts.side)) {
        if (opts.school !== undefined && school.id !== opts.school) continue
        const key = syncKey(run.tenant, school.id)
        const group = groups.get(key) ?? { tenant: run.tenant, schoolId: school.id, schoolName: school.name, rows: 0, syncs: [] }
        if (group.schoolName === '') group.schoolName = school.name
        if (group.syncs[group.syncs.length - 1] !== run) group.syncs.push(run)
        group.rows++
        groups.set(key, group)
      }
    }
    if (n > 0) rowsBySync.set(syncKey(run.tenant, run.syncId), n)
  }
  const ordered = [...groups.values()].sort(
    (a, b) =>
      a.tenant.localeCompare(b.tenant) || Number(a.schoolId === '') - Number(b.schoolId === '') || a.schoolId.localeCompare(b.schoolId),
  )
  const taken = new Set<string>()
  const files: FilePlan[] = []
  for (const g of ordered) {
    const name = exportFileName(opts.name, stampMs, opts.format.file.extension, { ...g, withTenant: opts.tenant === undefined })
    const path = await freePath(opts.outDir, name, taken)
    const base = { path, rows: g.rows, tenant: g.tenant, schoolId: g.schoolId, syncs: g.syncs }
    files.push(
      g.schoolId === ''
        ? // Rows with no school on the side: the whole sync, picked here (a filter cannot name a blank school).
          { ...base, filterOf: (run) => syncFilter(run, opts), keep: (row) => schoolsOf(row, opts.side)[0]?.id === '' }
        : { ...base, filterOf: (run) => ({ ...syncFilter(run, opts), school: g.schoolId, schoolSide: opts.side }) },
    )
  }
  return { files, rowsBySync }
}

/** The schools a row belongs to on the side: one, two (either side, two schools), or the blank school (none on that side). */
export function schoolsOf(row: LogRecord, side: ScopeSide): { id: string; name: string }[] {
  const home = { id: row.homeSchoolId, name: row.homeSchool }
  const serving = { id: row.servingSchoolId, name: row.servingSchool }
  const picked = side === 'home' ? [home] : side === 'serving' ? [serving] : [home, serving]
  const schools = picked.filter((s, i) => s.id !== '' && picked.findIndex((t) => t.id === s.id) === i)
  return schools.length > 0 ? schools : [{ id: '', name: '' }]
}

async function countRows(rows: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const _ of rows) n++
  return n
}

/** `dir/name`, or `dir/name` with `-2`, `-3`, … before the extension when that file exists or this run already uses it. */
async function freePath(dir: string, name: string, taken: Set<string>): Promise<string> {
  const dot = name.lastIndexOf('.')
  for (let n = 1; ; n++) {
    const candidate = join(dir, n === 1 ? name : `${name.slice(0, dot)}-${n}${name.slice(dot)}`)
    if (taken.has(candidate) || (await exists(candidate))) continue
    taken.add(candidate)
    return candidate
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw e
  }
}
