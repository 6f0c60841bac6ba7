/**
 * What `synclog serve` shares with the commands it runs for other processes: the one
 * store it opened (and locked) for its lifetime, and the queue that runs writes one at
 * a time. A command folds events through a pipeline made over this store, with the state
 * snapshots read afresh, exactly as a command in a process of its own does.
 */
import type { Config } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import type { SyncLogStore } from '../clickhouse/sync-log-store.js'
import { EmbeddedPipeline } from '../pipeline/embedded-pipeline.js'
import type { DecisionOutcome, DecisionRequest } from '../pipeline/sync-decisions.js'
import type { OpenStore } from '../pipeline/open-store.js'
import { SynclogError } from '../errors.js'
import { WriteQueue } from './write-queue.js'
import { currentInvocation } from './invocation-scope.js'

/** Marks the forwarded command as writing, so a stopping service lets it finish; a command that already failed does not start one. */
const markWriting = (): void => {
  const invocation = currentInvocation()
  if (invocation?.failed === true) throw new SynclogError('STORE_FAILED', 'this command already failed; its write did not start')
  if (invocation !== undefined) invocation.writing = true
}

export class SharedStore {
  private readonly writes = new WriteQueue()

  /**
   * `decideElsewhere`: where a decision on a sync the data directory's state does not know
   * goes (in `serve --stream`: the stream, whose processor holds it; src/stream/stream-decisions.ts).
   */
  constructor(
    private readonly opened: OpenStore,
    readonly dataDir: string,
    readonly clickhouseUrl: string | undefined,
    readonly decideElsewhere?: (req: DecisionRequest) => Promise<DecisionOutcome>,
  ) {}

  get store(): SyncLogStore {
    return this.opened.store
  }

  /** Runs a write with a pipeline over the shared store, after the writes before it (and under the data directory's lock). */
  withPipeline<T>(config: Config, logger: Logger, work: (pipeline: EmbeddedPipeline) => Promise<T>): Promise<T> {
    return this.writes.run(
      () => this.opened.writing(async () => work(await EmbeddedPipeline.over(this.opened, config, logger))),
      markWriting,
    )
  }

  /** Runs work that changes files of the data directory (an export's checkpoint) after the writes before it. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.writes.run(() => this.opened.writing(work), markWriting)
  }

  /** From now on, writes that have not started are refused (the service is stopping). */
  refuseNewWrites(): void {
    this.writes.refuseNew()
  }
}
