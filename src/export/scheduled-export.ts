/**
 * A scheduled export run (`synclog export`): writes the log rows of every sync
 * that reached a final status since the export's own last successful run, as
 * one file or one file per school, then advances the export's checkpoint.
 *
 * The sync is the unit. The projector stores a sync's rows before its status,
 * so a sync whose status is final has all its rows; "rows since the last run"
 * are the rows of final syncs the checkpoint does not list yet. Running and On
 * Hold syncs wait for a later run; Rejected syncs are recorded as done with no
 * rows. Every file is written atomically; the checkpoint is advanced only once
 * every file of the run is written, and a failed run removes the files it wrote
 * and leaves the checkpoint as it was, so the next run does the work again.
 *
 * Rows are streamed from the store (keyset pages), so memory does not grow with
 * the log; what to write is planned in export-plan.ts.
 */
import { rm, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import type { ScopeSide, SyncListFilter, SyncRun } from '../clickhouse/types.js'
import { DAY_MS, parseDateOrInstant } from '../events/instant.js'
import { SynclogError } from '../errors.js'
import type { SyncStatus } from '../events/sync-log-event.js'
import type { Logger } from '../logging/logger.js'
import { writeFileAtomically } from './atomic-file.js'
import {
  CHECKPOINT_RETENTION_DAYS,
  advanceCheckpoint,
  checkExportName,
  checkpointPath,
  exportedKeys,
  readCheckpoint,
  syncKey,
  writeCheckpoint,
  type ExportCheckpoint,
  type ExportedSync,
} from './export-checkpoint.js'
import { OPERATOR, planOneFile, planPerSchool, type ExportSource, type FilePlan, type Plan } from './export-plan.js'
import type { LogFileFormat } from './formats/index.js'
import type { LogRecord } from './log-record.js'
import { makeDirectory } from '../paths/make-directory.js'
import type { TimeZones } from './local-time.js'

export type { ExportSource } from './export-plan.js'

/** Statuses after which a sync's rows never change, and are exported. */
export const EXPORTED_STATUSES: readonly SyncStatus[] = ['Completed', 'Completed with Errors', 'Failed']

/**
 * After the first run, only syncs started this many days before the run are looked at: every
 * sync that old and already exported is still in the checkpoint (its entries live
 * CHECKPOINT_RETENTION_DAYS from their export, which comes after the start), with a day to spare.
 */
export const LOOKBACK_DAYS = CHECKPOINT_RETENTION_DAYS - 1
const SYNC_PAGE = 5_000
const PROGRESS_EVERY_ROWS = 1_000

export interface ScheduledExportOptions {
  /** The export's name: its checkpoint and the prefix of its files. */
  readonly name: string
  readonly outDir: string
  readonly dataDir: string
  /** A log file format (formats/index.ts: logFileFormats). */
  readonly format: LogFileFormat
  readonly perSchool: boolean
  /** Which school of a row counts: home, serving, or either (a row goes to both schools' files). */
  readonly side: ScopeSide
  readonly tenant?: string
  readonly school?: string
  readonly app?: string
  /**
   * YYYY-MM-DD or ISO instant: syncs that started before it are never exported. Bounds the first
   * run; kept in the checkpoint, so later runs need not repeat it (a later value replaces it).
   */
  readonly since?: string
  readonly dryRun: boolean
  /** Each tenant's time zone, for formats that show local times (Excel); default: UTC. */
  readonly timeZones?: TimeZones
}

export interface ExportProgress {
  readonly file: string
  readonly rows: number
  readonly done: number
  readonly total: number
}

export interface ExportDeps {
  readonly logger: Logger
  /** The clock, in epoch milliseconds. */
  readonly now: () => number
  readonly onProgress?: (p: ExportProgress) => void
}

export interface ExportFile {
  readonly path: string
  readonly rows: number
  readonly tenant?: string
  /** Per school: the school id ('' for the rows with no school on the chosen side). */
  readonly schoolId?: string
}

export interface ExportRunResult {
  /** `written`: files written and checkpoint advanced; `nothing-new`: no rows to write; `dry-run`: nothing written. */
  readonly outcome: 'written' | 'nothing-new' | 'dry-run'
  /** The files written (or, on a dry run, that would be). */
  readonly files: readonly ExportFile[]
  /** The syncs this run records as done (final ones with their rows, Rejected ones with none). */
  readonly done: readonly Omit<ExportedSync, 'exportedAt'>[]
  /** Syncs not final yet (Running, On Hold): a later run exports them. */
  readonly waiting: readonly SyncRun[]
  /** The last successful run before this one, or null on the first run. */
  readonly previousRunAt: string | null
  /** The `--since` bound in force (given now or kept from an earlier run), ISO; null = none. */
  readonly since: string | null
  readonly checkpoint: string
}

/** Runs one scheduled export. Throws (SynclogError or a file-system error) on failure, leaving no file of the run and the checkpoint untouched. */
export async function runScheduledExport(source: ExportSource, opts: ScheduledExportOptions, deps: ExportDeps): Promise<ExportRunResult> {
  checkExportName(opts.name)
  const givenSinceMs = opts.since === undefined ? null : parseSince(opts.since)
  const log = deps.logger.child({ component: 'export', export: opts.name })
  const cpPath = checkpointPath(opts.dataDir, opts.name)
  const previous = await readCheckpoint(cpPath)
  // --since holds for later runs too: given once, on the first run, it is kept in the checkpoint.
  const keptSince = previous?.since ?? null
  const sinceMs = givenSinceMs ?? (keptSince === null ? null : Date.parse(keptSince))
  const options = optionsRecord(opts)
  if (previous !== null && JSON.stringify(previous.options) !== JSON.stringify(options)) {
    log.warn(
      { previous: previous.options, now: options },
      'this export ran with other options before; syncs it already exported are not exported again',
    )
  }
  await checkOutDir(opts.outDir, opts.dryRun)

  const startedAtMs = deps.now()
  const from = lowerBound(sinceMs, previous, startedAtMs)
  const runs = await listSyncs(source, {
    tenant: opts.tenant,
    app: opts.app,
    from: from === null ? undefined : new Date(from).toISOString(),
  })
  const exported = exportedKeys(previous)
  const fresh = runs.filter((r) => !exported.has(syncKey(r.tenant, r.syncId)))
  const final = fresh.filter((r) => EXPORTED_STATUSES.includes(r.status))
  const rejected = fresh.filter((r) => r.status === 'Rejected')
  const waiting = fresh.filter((r) => !EXPORTED_STATUSES.includes(r.status) && r.status !== 'Rejected')
  log.debug({ listed: runs.length, final: final.length, rejected: rejected.length, waiting: waiting.length }, 'syncs to export')

  const plan = opts.perSchool ? await planPerSchool(source, opts, final, startedAtMs) : await planOneFile(source, opts, final, startedAtMs)
  const doneWith = (rowsBySync: ReadonlyMap<string, number>): Omit<ExportedSync, 'exportedAt'>[] => [
    ...final.map((r) => ({ tenant: r.tenant, syncId: r.syncId, status: r.status, rows: rowsBySync.get(syncKey(r.tenant, r.syncId)) ?? 0 })),
    ...rejected.map((r) => ({ tenant: r.tenant, syncId: r.syncId, status: r.status, rows: 0 })),
  ]
  const since = sinceMs === null ? null : new Date(sinceMs).toISOString()
  const common = { waiting, previousRunAt: previous?.lastRunAt ?? null, since, checkpoint: cpPath }
  if (opts.dryRun) {
    const files = plan.files.map((f) => fileOf(f, f.rows ?? 0))
    return { ...common, outcome: 'dry-run', files, done: doneWith(plan.rowsBySync) }
  }

  const written: ExportFile[] = []
  try {
    const rowsBySync = await writeFiles(source, plan, opts, deps, log, written)
    const done = doneWith(rowsBySync)
    await writeCheckpoint(cpPath, advanceCheckpoint(previous, { name: opts.name, startedAtMs, sinceMs, options }, done, deps.now()))
    log.info({ files: written.length, syncs: final.length, rejected: rejected.length, waiting: waiting.length }, 'export finished')
    return { ...common, outcome: written.length === 0 ? 'nothing-new' : 'written', files: written, done }
  } catch (e) {
    await removeAll(
      written.map((f) => f.path),
      log,
    )
    throw e
  }
}

function fileOf(file: FilePlan, rows: number): ExportFile {
  return {
    path: file.path,
    rows,
    ...(file.tenant === undefined ? {} : { tenant: file.tenant }),
    ...(file.schoolId === undefined ? {} : { schoolId: file.schoolId }),
  }
}

/** The options that shape the files, as the checkpoint keeps them. */
function optionsRecord(opts: ScheduledExportOptions): ExportCheckpoint['options'] {
  return {
    format: opts.format.name,
    perSchool: opts.perSchool,
    side: opts.side,
    tenant: opts.tenant ?? null,
    school: opts.school ?? null,
    app: opts.app ?? null,
  }
}

/** `--since` as epoch ms; after the first run, no earlier than the lookback. Null = no bound. */
function lowerBound(sinceMs: number | null, previous: ExportCheckpoint | null, nowMs: number): number | null {
  if (previous === null) return sinceMs
  return Math.max(sinceMs ?? 0, nowMs - LOOKBACK_DAYS * DAY_MS)
}

export function parseSince(since: string): number {
  const ms = parseDateOrInstant(since)
  if (ms === null) throw new SynclogError('USAGE', `--since must be a date (YYYY-MM-DD) or an ISO instant (got '${since}')`)
  return ms
}

async function checkOutDir(dir: string, dryRun: boolean): Promise<void> {
  try {
    if (!dryRun) {
      await makeDirectory(dir)
      return
    }
    if (!(await stat(dir)).isDirectory()) throw new Error('it is a file')
  } catch (e) {
    if (dryRun && (e as NodeJS.ErrnoException).code === 'ENOENT') return
    throw new SynclogError('USAGE', `--out ${dir} is not a directory the export can write into: ${(e as Error).message}`, { cause: e })
  }
}

/** Every sync matching the filter, newest start first, paged by start time so no listing limit can cut it short. */
async function listSyncs(source: ExportSource, filter: SyncListFilter): Promise<SyncRun[]> {
  const seen = new Map<string, SyncRun>()
  let to: string | undefined
  for (;;) {
    const page = await source.listSyncs(OPERATOR, { ...filter, to, limit: SYNC_PAGE })
    let added = 0
    for (const run of page) {
      const key = syncKey(run.tenant, run.syncId)
      if (!seen.has(key)) {
        seen.set(key, run)
        added++
      }
    }
    const last = page[page.length - 1]
    if (page.length < SYNC_PAGE || last === undefined) break
    if (added === 0)
      throw new SynclogError(
        'STORE_FAILED',
        `more than ${SYNC_PAGE} syncs started at ${last.startedAt}; the export cannot page through them`,
      )
    to = last.startedAt
  }
  return [...seen.values()]
}

/**
 * Writes every planned file (each atomically), one log line per file; `written` receives each file
 * once it is complete. Returns the rows written per sync (by syncKey; per school, the first pass's count).
 */
async function writeFiles(
  source: ExportSource,
  plan: Plan,
  opts: ScheduledExportOptions,
  deps: ExportDeps,
  log: Logger,
  written: ExportFile[],
): Promise<Map<string, number>> {
  const rowsBySync = new Map(plan.rowsBySync)
  // Progress in rows when the plan counted them (per school), else in syncs.
  const byRows = plan.files.every((f) => f.rows !== null)
  const total = byRows ? plan.files.reduce((n, f) => n + (f.rows ?? 0), 0) : plan.files.reduce((n, f) => n + f.syncs.length, 0)
  let done = 0
  for (const file of plan.files) {
    const shown = basename(file.path)
    let inFile = 0
    const report = (): void => deps.onProgress?.({ file: shown, rows: inFile, done, total })
    const rows = async function* (): AsyncGenerator<LogRecord> {
      for (const run of file.syncs) {
        const key = syncKey(run.tenant, run.syncId)
        for await (const row of source.streamLog(OPERATOR, file.filterOf(run))) {
          if (file.keep !== undefined && !file.keep(row)) continue
          inFile++
          if (byRows) done++
          if (file.rows === null) rowsBySync.set(key, (rowsBySync.get(key) ?? 0) + 1)
          if (inFile % PROGRESS_EVERY_ROWS === 0) report()
          yield row
        }
        if (!byRows) done++
        report()
      }
    }
    const count = await writeFileAtomically(file.path, (out) => opts.format.log(out, rows(), opts.timeZones))
    written.push(fileOf(file, count))
    if (file.rows !== null && count !== file.rows) {
      log.warn({ file: file.path, counted: file.rows, rows: count }, 'the file has another number of rows than the first pass counted')
    }
    log.info({ file: file.path, rows: count, tenant: file.tenant, schoolId: file.schoolId }, 'export file written')
  }
  return rowsBySync
}

async function removeAll(paths: readonly string[], log: Logger): Promise<void> {
  for (const path of paths) {
    try {
      await rm(path, { force: true })
    } catch (e) {
      log.warn({ file: path, err: e }, 'could not remove a file of the failed export run')
    }
  }
}
