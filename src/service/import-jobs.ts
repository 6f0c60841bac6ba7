/**
 * The imports a running service was handed (an HTTP upload, a file in the drop folder):
 * each is checked as a whole when it arrives, given its sync id there and then, queued
 * on the service's write queue and imported there (src/pipeline/import-bundle.ts), one
 * after another. Their records (queued, running, done with the sync's summary, failed
 * with the reason) live in memory, the most recent ones only; after a restart the import
 * journal resumes an import that was cut off, when the same bundle is delivered again.
 */
import { randomBytes } from 'node:crypto'
import type { Scope, SyncSummary } from '../clickhouse/types.js'
import type { Config } from '../config/config.js'
import { isSynclogError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { acceptedSyncId, checkBundle, checkTenant, importBundle, type AcceptedBundle } from '../pipeline/import-bundle.js'
import type { SharedStore } from './shared-store.js'

export const IMPORT_STATES = ['queued', 'running', 'done', 'failed'] as const
export type ImportState = (typeof IMPORT_STATES)[number]

export const IMPORT_SOURCES = ['upload', 'drop-folder'] as const
export type ImportSource = (typeof IMPORT_SOURCES)[number]

/** `imp_` and 16 url-safe characters. */
export const IMPORT_ID_SHAPE = /^imp_[A-Za-z0-9_-]{16}$/

/** What GET /api/v1/imports/{id} answers. */
export interface ImportRecord {
  readonly importId: string
  /** The sync the import records (known from acceptance on). */
  syncId: string
  readonly tenant: string
  readonly app: string
  readonly source: ImportSource
  /** The file's name as delivered (the drop folder's entry; `upload` for an HTTP upload). */
  readonly name: string
  state: ImportState
  /** ISO instants. */
  readonly acceptedAt: string
  startedAt?: string
  finishedAt?: string
  /** When done: the sync's status and counts, and what the fold did. */
  result?: { summary: SyncSummary; events: number; rowsWritten: number; rejected: number }
  /** When failed: why. */
  error?: string
}

export interface ImportDelivery {
  /** The bundle (a .zip or a folder); it must stay in place until `afterwards` runs. */
  readonly path: string
  readonly name: string
  readonly tenant: string
  readonly app: string
  readonly source: ImportSource
  /** Compute the sync without applying it: it ends in Preview, to be applied or discarded. */
  readonly preview?: boolean
  /** Runs once the import is over (done, failed, or never started because the service stopped). */
  readonly afterwards?: (record: ImportRecord, stoppedBeforeStart: boolean) => Promise<void>
}

/** Finished records kept for GET /api/v1/imports/{id}; older ones are forgotten. */
const KEEP_FINISHED = 500

interface Job {
  readonly record: ImportRecord
  readonly settled: Promise<void>
}

export class ImportJobs {
  private readonly jobs = new Map<string, Job>()
  private readonly log: Logger

  constructor(
    private readonly shared: SharedStore,
    private readonly config: Config,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'imports' })
  }

  /**
   * Checks the bundle as a whole (throws INPUT_UNREADABLE, MANIFEST_INVALID or
   * INPUT_LIMIT_EXCEEDED naming the file, and USAGE for a bad tenant), then queues its
   * import and answers its record at once.
   */
  async submit(delivery: ImportDelivery): Promise<ImportRecord> {
    checkTenant(delivery.tenant, 'tenant')
    const at = new Date()
    const accepted: AcceptedBundle = { at, fingerprint: await checkBundle(delivery.path, this.config) }
    const record: ImportRecord = {
      importId: `imp_${randomBytes(12).toString('base64url')}`,
      syncId: await this.syncIdFor(delivery, accepted),
      tenant: delivery.tenant,
      app: delivery.app,
      source: delivery.source,
      name: delivery.name,
      state: 'queued',
      acceptedAt: at.toISOString(),
    }
    // The import adds tenant and sync id to its own lines.
    const log = this.log.child({ importId: record.importId, source: record.source })
    log.info({ tenant: record.tenant, syncId: record.syncId }, 'import accepted and queued')
    const work = this.shared.withPipeline(this.config, log, async (pipeline) => {
      record.state = 'running'
      record.startedAt = new Date().toISOString()
      return importBundle(pipeline, {
        path: delivery.path,
        tenant: delivery.tenant,
        app: delivery.app,
        config: this.config,
        logger: log,
        accepted,
        preview: delivery.preview === true,
      })
    })
    const settled = work
      .then(
        (done) => {
          if (done.syncId !== record.syncId)
            log.info(
              { resumedSyncId: done.syncId },
              'the import resumed an earlier, interrupted import of the same bundle under its sync id',
            )
          record.syncId = done.syncId
          record.result = { summary: done.summary, events: done.events, rowsWritten: done.rowsWritten, rejected: done.rejected }
          record.state = 'done'
          return false
        },
        (e: unknown) => {
          const stoppedBeforeStart = record.state === 'queued'
          record.error = stoppedBeforeStart
            ? 'the service stopped before this import started; deliver the bundle again'
            : isSynclogError(e)
              ? e.message
              : `the import failed (${e instanceof Error ? e.message : String(e)}); the service log has the details`
          record.state = 'failed'
          if (isSynclogError(e)) log.warn({ code: e.code }, record.error)
          else log.error({ err: e }, 'import failed')
          return stoppedBeforeStart
        },
      )
      .then(async (stoppedBeforeStart) => {
        record.finishedAt = new Date().toISOString()
        try {
          await delivery.afterwards?.(record, stoppedBeforeStart)
        } catch (e) {
          log.warn({ err: e }, 'cleaning up after the import failed')
        }
        this.forgetOld()
      })
    this.jobs.set(record.importId, { record, settled })
    return record
  }

  /** The record of an import, if the scope may see it: every tenant, or a whole tenant for its own imports. */
  find(importId: string, scope: Scope): ImportRecord | undefined {
    const job = this.jobs.get(importId)
    return job !== undefined && visibleTo(job.record, scope) ? job.record : undefined
  }

  /** The records the scope may see, newest first. */
  list(scope: Scope): ImportRecord[] {
    return [...this.jobs.values()]
      .map((j) => j.record)
      .filter((r) => visibleTo(r, scope))
      .reverse()
  }

  /** Resolves when the import is over, or after `ms`, whichever is first. */
  async settled(importId: string, ms: number): Promise<void> {
    const job = this.jobs.get(importId)
    if (job === undefined || ms <= 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([job.settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
    clearTimeout(timer)
  }

  /** Refuses imports not yet started and waits for the one running (it always completes). */
  async close(): Promise<void> {
    this.shared.refuseNewWrites()
    await Promise.all([...this.jobs.values()].map((j) => j.settled))
  }

  /**
   * The journal's sync id when it holds an interrupted import of the same bundle (the
   * import resumes it), unless that is an import of this service still under way; else a new one.
   */
  private syncIdFor(delivery: ImportDelivery, accepted: AcceptedBundle): Promise<string> {
    const running = (syncId: string): boolean =>
      [...this.jobs.values()].some((j) => j.record.syncId === syncId && j.record.finishedAt === undefined)
    return acceptedSyncId(this.config, delivery.tenant, delivery.app, accepted, running)
  }

  private forgetOld(): void {
    let finished = [...this.jobs.values()].filter((j) => j.record.finishedAt !== undefined).length
    for (const [id, job] of this.jobs) {
      if (finished <= KEEP_FINISHED) break
      if (job.record.finishedAt === undefined) continue
      this.jobs.delete(id)
      finished--
    }
  }
}

function visibleTo(record: ImportRecord, scope: Scope): boolean {
  return scope.tenant === undefined || (scope.tenant === record.tenant && scope.school === undefined)
}
