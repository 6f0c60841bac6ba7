/**
 * Embedded mode: one process folds change events (from files) and projects the
 * sync-log events into ClickHouse (chDB in the data directory, or a server).
 * The same step and the same store as stream mode; only the transport differs.
 */
import type { ChangeEvent } from '../events/change-event.js'
import type { SyncLogEvent, SyncStatus } from '../events/sync-log-event.js'
import type { Config } from '../config/config.js'
import { foldOptionsOf } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import { evolve, step, type FoldOptions, type ProcessorState, type StepInput } from '../processor/index.js'
import type { SyncLogStore } from '../clickhouse/sync-log-store.js'
import { StateSnapshots } from '../state/state-snapshots.js'
import { openStore, type OpenStore } from './open-store.js'

/** Sync-log events are written in batches of this many (ClickHouse likes 10k–100k rows per insert). */
const WRITE_BATCH = 20_000

/** Events decided per round of steps. */
const STEP_CHUNK = 5_000

export interface RejectedEvent {
  readonly eventId: string
  readonly where: string
  readonly reason: string
}

export interface ApplyReport {
  readonly events: number
  readonly ignored: number
  readonly rejected: readonly RejectedEvent[]
  /** Final status of every sync the events touched, in order of first appearance. */
  readonly syncs: ReadonlyMap<string, SyncStatus>
  readonly rowsWritten: number
}

export class EmbeddedPipeline {
  private constructor(
    private readonly opened: OpenStore,
    readonly state: ProcessorState,
    private readonly snapshots: StateSnapshots,
    private readonly options: FoldOptions,
    private readonly logger: Logger,
  ) {}

  get store(): SyncLogStore {
    return this.opened.store
  }

  /** Opens the data directory (lock, ClickHouse, state); `close` releases it. */
  static async open(config: Config, logger: Logger, command: string): Promise<EmbeddedPipeline> {
    const opened = await openStore(config, logger, command)
    try {
      return await EmbeddedPipeline.withState(opened, config, logger)
    } catch (e) {
      await opened.close()
      throw e
    }
  }

  /** A pipeline over a store someone else opened and closes (the service's): the state is read afresh, `close` leaves the store open. */
  static async over(opened: OpenStore, config: Config, logger: Logger): Promise<EmbeddedPipeline> {
    return EmbeddedPipeline.withState(
      { store: opened.store, mode: opened.mode, alerts: opened.alerts, writing: (work) => work(), close: async () => {} },
      config,
      logger,
    )
  }

  private static async withState(opened: OpenStore, config: Config, logger: Logger): Promise<EmbeddedPipeline> {
    const snapshots = new StateSnapshots(config.dataDir)
    const state = await snapshots.loadAll()
    logger.debug({ tenants: state.tenants.size, mode: opened.mode }, 'pipeline open')
    return new EmbeddedPipeline(opened, state, snapshots, foldOptionsOf(config), logger)
  }

  /**
   * Folds the events with the stream processor's step, writes what they produce
   * in large batches, then saves the state of the tenants they touched (the
   * state is durable only with that save, after every write).
   */
  async apply(events: AsyncIterable<ChangeEvent> | Iterable<ChangeEvent>): Promise<ApplyReport> {
    let count = 0
    let ignored = 0
    let rowsWritten = 0
    const rejected: RejectedEvent[] = []
    const syncs = new Map<string, SyncStatus>()
    const tenants = new Set<string>()
    let chunk: ChangeEvent[] = []

    let buffer: SyncLogEvent[] = []
    const flush = async (): Promise<void> => {
      if (buffer.length === 0) return
      const batch = buffer
      buffer = []
      await this.store.write(batch)
      rowsWritten += batch.filter((e) => e.kind === 'LogRow').length
    }
    const foldChunk = async (): Promise<void> => {
      const inputs: StepInput[] = chunk.map((event) => ({ event, offset: '' }))
      for (let from = 0; from < inputs.length;) {
        const result = step(this.state, inputs, this.options, from)
        for (const dead of result.deadLetters) {
          const event = chunk[dead.index]!
          const where = 'source' in event && event.source ? `${event.source.file}:${event.source.line}` : event.type
          rejected.push({ eventId: event.eventId, where, reason: dead.reason })
          this.logger.warn({ eventId: event.eventId, tenant: event.tenant, syncId: event.syncId, reason: dead.reason }, 'event rejected')
        }
        ignored += result.ignored
        for (const out of result.outputs) if (out.kind === 'SyncStatusChanged') syncs.set(out.syncId, out.status)
        // The state here becomes durable with the snapshots, after every write: evolve now, write in large batches.
        evolve(this.state, result.changes)
        for (const out of result.outputs) buffer.push(out)
        if (buffer.length >= WRITE_BATCH) await flush()
        from += result.consumed
      }
      chunk = []
    }

    for await (const event of events) {
      count++
      tenants.add(event.tenant)
      chunk.push(event)
      if (chunk.length >= STEP_CHUNK) await foldChunk()
    }
    await foldChunk()
    await flush()
    for (const tenant of tenants) {
      const t = this.state.tenants.get(tenant)
      if (t) await this.snapshots.save(t)
    }
    return { events: count, ignored, rejected, syncs, rowsWritten }
  }

  async close(): Promise<void> {
    await this.opened.close()
  }
}
