/**
 * The checkpoint of a scheduled export: which syncs an export (by name) has
 * already written, kept in `<dataDir>/exports/<name>.checkpoint.json`. The sync
 * is the unit: once a sync's final status is stored its rows are complete, so
 * "rows since the last run" = rows of final syncs this file does not list yet.
 * Written atomically (temp file, fsync, rename); entries are pruned after
 * CHECKPOINT_RETENTION_DAYS.
 */
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { SynclogError } from '../errors.js'
import { SYNC_STATUSES, type SyncStatus } from '../events/sync-log-event.js'
import { makeDirectory } from '../paths/make-directory.js'
import { replaceFile } from '../paths/replace-file.js'

/** How long an exported sync is remembered, counted from the time it was exported. */
export const CHECKPOINT_RETENTION_DAYS = 400
const DAY_MS = 86_400_000
export const CHECKPOINT_FORMAT = 1

/** Export names become file names: letters, digits, '.', '_' and '-', starting with a letter or digit. */
const EXPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export interface ExportedSync {
  readonly tenant: string
  readonly syncId: string
  /** The sync's status when it was exported (a Rejected sync is recorded as done, with no rows). */
  readonly status: SyncStatus
  /** Rows of the sync written by the run (0 for a Rejected sync or a sync with no rows). */
  readonly rows: number
  /** ISO instant the run that wrote it finished writing its files. */
  readonly exportedAt: string
}

export interface ExportCheckpoint {
  readonly format: typeof CHECKPOINT_FORMAT
  readonly name: string
  /** ISO instant of the last successful run (when it listed the syncs). */
  readonly lastRunAt: string
  /** The `--since` bound in force (ISO instant), kept for later runs that do not repeat it; null = none. */
  readonly since: string | null
  /** The options of that run, to warn when a later run asks for something else. */
  readonly options: Readonly<Record<string, string | boolean | null>>
  readonly syncs: readonly ExportedSync[]
}

const IsoInstant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO instant')

const CheckpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  name: z.string(),
  lastRunAt: IsoInstant,
  since: IsoInstant.nullable(),
  options: z.record(z.string(), z.union([z.string(), z.boolean(), z.null()])),
  syncs: z.array(
    z.object({
      tenant: z.string(),
      syncId: z.string().min(1),
      status: z.enum(SYNC_STATUSES),
      rows: z.number().int().min(0),
      exportedAt: IsoInstant,
    }),
  ),
})

/** The name, if it can be used in a file name; else a USAGE error saying what is allowed. */
export function checkExportName(name: string): string {
  if (!EXPORT_NAME.test(name)) {
    throw new SynclogError(
      'USAGE',
      `--name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (got '${name}')`,
    )
  }
  return name
}

export function checkpointPath(dataDir: string, name: string): string {
  return join(dataDir, 'exports', `${checkExportName(name)}.checkpoint.json`)
}

/** The key of a sync in the checkpoint (in memory only); unambiguous whatever characters the ids hold. */
export function syncKey(tenant: string, syncId: string): string {
  return JSON.stringify([tenant, syncId])
}

/** The (tenant, syncId) keys the checkpoint lists. */
export function exportedKeys(checkpoint: ExportCheckpoint | null): Set<string> {
  return new Set((checkpoint?.syncs ?? []).map((s) => syncKey(s.tenant, s.syncId)))
}

/** The checkpoint at `path`, or null when there is none yet (the export's first run). A file that cannot be used is an error naming it. */
export async function readCheckpoint(path: string): Promise<ExportCheckpoint | null> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new SynclogError('STATE_CORRUPT', `export checkpoint ${path} cannot be read: ${(e as Error).message}`, { cause: e })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw corrupt(path, `it is not JSON (${(e as Error).message})`, e)
  }
  const parsed = CheckpointSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`
    throw corrupt(path, `it is not a synclog export checkpoint (${issue?.message ?? 'unexpected shape'}${where})`, parsed.error)
  }
  return parsed.data
}

function corrupt(path: string, why: string, cause: unknown): SynclogError {
  return new SynclogError(
    'STATE_CORRUPT',
    `export checkpoint ${path} is damaged: ${why}. Restore it from a backup, or delete it to start over ` +
      '(the next run then exports every final sync again; bound it with --since)',
    { cause },
  )
}

/**
 * The checkpoint after a successful run: the previous entries plus `done`, stamped `exportedAt`,
 * minus entries exported more than CHECKPOINT_RETENTION_DAYS before `nowMs`. Pure.
 */
export function advanceCheckpoint(
  previous: ExportCheckpoint | null,
  run: { name: string; startedAtMs: number; sinceMs: number | null; options: ExportCheckpoint['options'] },
  done: readonly Omit<ExportedSync, 'exportedAt'>[],
  nowMs: number,
): ExportCheckpoint {
  const exportedAt = new Date(nowMs).toISOString()
  const byKey = new Map<string, ExportedSync>()
  for (const s of previous?.syncs ?? []) byKey.set(syncKey(s.tenant, s.syncId), s)
  for (const s of done) byKey.set(syncKey(s.tenant, s.syncId), { ...s, exportedAt })
  return pruneCheckpoint(
    {
      format: CHECKPOINT_FORMAT,
      name: run.name,
      lastRunAt: new Date(run.startedAtMs).toISOString(),
      since: run.sinceMs === null ? null : new Date(run.sinceMs).toISOString(),
      options: run.options,
      syncs: [...byKey.values()],
    },
    nowMs,
  )
}

/** Drops the entries exported more than CHECKPOINT_RETENTION_DAYS before `nowMs`. Pure. */
export function pruneCheckpoint(checkpoint: ExportCheckpoint, nowMs: number): ExportCheckpoint {
  const oldest = nowMs - CHECKPOINT_RETENTION_DAYS * DAY_MS
  return { ...checkpoint, syncs: checkpoint.syncs.filter((s) => Date.parse(s.exportedAt) >= oldest) }
}

/**
 * Writes the checkpoint atomically (replaceFile), so a reader (or a crash) sees the old
 * checkpoint or the new one, never a mix.
 */
export async function writeCheckpoint(path: string, checkpoint: ExportCheckpoint): Promise<void> {
  await makeDirectory(dirname(path))
  try {
    await replaceFile(path, `${JSON.stringify(checkpoint, null, 2)}\n`)
  } catch (e) {
    // A file-system failure (disk full, permissions), not damage: the old checkpoint is intact.
    throw new SynclogError('EXPORT_FAILED', `export checkpoint ${path} cannot be written: ${(e as Error).message}`, { cause: e })
  }
}
