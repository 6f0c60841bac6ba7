/**
 * One OneRoster bundle imported as one sync: the one import behind `synclog import`,
 * `POST /api/v1/imports` and the drop folder of `synclog serve --watch`. It records the
 * intent in the import journal first, so the same input imported again after a crash
 * resumes under its first sync id, folds the bundle's events through the pipeline, and
 * answers the sync's summary. How the result is shown is the caller's.
 */
import { UNSCOPED } from '../clickhouse/scope.js'
import type { SyncSummary } from '../clickhouse/types.js'
import type { Config } from '../config/config.js'
import { SynclogError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { planBundle } from '../oneroster/bundle-plan.js'
import { openBundleSource } from '../oneroster/bundle-source.js'
import { bundleFingerprint, readOneRosterBundle } from '../oneroster/read-bundle.js'
import { inputFingerprint, syncIdFor } from '../oneroster/sync-identity.js'
import { ImportJournal } from '../state/import-journal.js'
import type { EmbeddedPipeline } from './embedded-pipeline.js'

/** A tenant as imports name it: it becomes part of sync ids and of file names. */
const TENANT_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/** Throws USAGE naming `what` (`--tenant`, `query parameter tenant`, ...) unless the tenant has the shape of one. */
export function checkTenant(tenant: string, what: string): void {
  if (!TENANT_SHAPE.test(tenant)) {
    throw new SynclogError('USAGE', `${what} '${tenant}' must be letters, digits, '.', '_' or '-' (at most 100)`)
  }
}

export interface BundleProgress {
  update(p: { file: string; rows: number; bytes: number; totalBytes: number }): void
  stop(): void
}

export interface BundleImport {
  /** A folder or a .zip holding manifest.csv and the CSV files. */
  readonly path: string
  readonly tenant: string
  readonly app: string
  readonly config: Config
  readonly logger: Logger
  /** Progress of the long part, given the import's logger (with tenant and sync id). */
  readonly progress?: (log: Logger) => BundleProgress | undefined
  /**
   * The import's instant and the bundle's fingerprint, when the caller fixed them on
   * accepting the bundle (so it could answer the sync id at once); default: now, and
   * the fingerprint read here.
   */
  readonly accepted?: AcceptedBundle
  /** Compute the sync without applying it: it ends in Preview, for a reviewer to apply or discard. */
  readonly preview?: boolean
}

export interface AcceptedBundle {
  readonly at: Date
  readonly fingerprint: string
}

export interface BundleImported {
  readonly syncId: string
  readonly summary: SyncSummary
  /** Events folded, log rows written, events the fold refused. */
  readonly events: number
  readonly rowsWritten: number
  readonly rejected: number
  /** The same input's interrupted import was resumed under its first sync id. */
  readonly resumed: boolean
}

/** Imports one bundle as one sync through an open pipeline (one write: in a service, on its write queue). */
export async function importBundle(pipeline: EmbeddedPipeline, opts: BundleImport): Promise<BundleImported> {
  checkTenant(opts.tenant, '--tenant')
  const { config, path } = opts
  const journal = new ImportJournal(config.dataDir)
  const now = opts.accepted?.at ?? new Date()
  const fingerprint = opts.accepted?.fingerprint ?? (await inputFingerprint(path, now, config.limits))
  const { intent, resumed } = await journal.begin({ tenant: opts.tenant, app: opts.app, fingerprint }, now)
  const log = opts.logger.child({ tenant: intent.tenant, syncId: intent.syncId })
  if (resumed) log.info('resuming the interrupted import of the same input under its first sync id')
  log.info({ path }, 'import started')

  const progress = opts.progress?.(log)
  const report = await pipeline.apply(
    readOneRosterBundle({
      path,
      tenant: intent.tenant,
      syncId: intent.syncId,
      app: intent.app,
      occurredAt: intent.occurredAt,
      // The sync ends when its bundle has been read, not when it was accepted; noted, so a resumed import ends the same.
      endedAt: () => journal.end(new Date()),
      limits: config.limits,
      preview: opts.preview,
      onProgress: (p) => progress?.update(p),
      onIssue: (issue) => log.warn({ file: issue.file, line: issue.line, field: issue.field }, issue.message),
    }),
  )
  progress?.stop()
  await journal.finish()
  for (const r of report.rejected) log.warn({ eventId: r.eventId, where: r.where }, r.reason)

  const summary = await pipeline.store.summary(UNSCOPED, intent.syncId, { bySchool: false })
  if (!summary) throw new SynclogError('SYNC_NOT_FOUND', `sync ${intent.syncId} was not recorded; see the log above`)
  log.info({ status: summary.status, events: report.events, rows: report.rowsWritten }, 'import finished')
  return {
    syncId: intent.syncId,
    summary,
    events: report.events,
    rowsWritten: report.rowsWritten,
    rejected: report.rejected.length,
    resumed,
  }
}

/**
 * Reads a bundle as the import will before its first record, without the store: the
 * zip's directory and sizes against the limits, the manifest and every file's header
 * (planBundle), and every byte (the fingerprint). Throws what the import would record
 * as the sync's failure (INPUT_UNREADABLE, MANIFEST_INVALID, INPUT_LIMIT_EXCEEDED),
 * so a bundle delivered to the service can be refused before it is queued.
 */
export async function checkBundle(path: string, config: Config): Promise<string> {
  const source = await openBundleSource(path, config.limits)
  try {
    await planBundle(source, () => {}, config.limits)
  } finally {
    await source.close()
  }
  return bundleFingerprint(path, config.limits)
}

/**
 * The sync id an import accepted now will get: the interrupted import's id when the
 * journal holds one of the same input (it resumes), unless `running` says that import is
 * still under way; else a new one from the instant.
 */
export async function acceptedSyncId(
  config: Config,
  tenant: string,
  app: string,
  accepted: AcceptedBundle,
  running: (syncId: string) => boolean = () => false,
): Promise<string> {
  const pending = await new ImportJournal(config.dataDir).pending()
  const resumes = pending !== undefined && pending.tenant === tenant && pending.app === app && pending.fingerprint === accepted.fingerprint
  return resumes && !running(pending.syncId) ? pending.syncId : syncIdFor(tenant, accepted.fingerprint, accepted.at)
}
