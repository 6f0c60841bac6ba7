/**
 * The composition root of the CLI: turns global flags into config, logger and
 * the adapters a command needs. Nothing deeper reaches for globals.
 */
import type { Command } from 'commander'
import { loadConfig, type Config, type ConfigFlags } from '../config/config.js'
import { createLogger, type Logger } from '../logging/logger.js'
import { EmbeddedPipeline } from '../pipeline/embedded-pipeline.js'
import { openStore } from '../pipeline/open-store.js'
import type { SyncLogStore } from '../clickhouse/sync-log-store.js'
import { checkDataDir } from '../paths/check-path.js'
import { commandStreams } from './command-output.js'
import { watchHeap } from '../process/fatal.js'

export interface CliContext {
  readonly config: Config
  readonly logger: Logger
  /** Where the command prints; a reader that goes away (`| head`) ends it quietly. */
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  /** Opens the data directory (lock, ClickHouse, state) for folding events; closed after `work`. */
  withPipeline<T>(command: string, work: (pipeline: EmbeddedPipeline) => Promise<T>): Promise<T>
  /** Opens the data directory (lock, ClickHouse) for reading the log; closed after `work`. */
  withStore<T>(command: string, work: (store: SyncLogStore) => Promise<T>): Promise<T>
}

export function contextOf(command: Command, defaults: Partial<ConfigFlags> = {}): CliContext {
  const flags = { ...defaults, ...definedOnly(command.optsWithGlobals<ConfigFlags>()) }
  const config = loadConfig(flags)
  // A device, a file, a link loop or /proc as data directory fails here, in one line, before anything is opened.
  checkDataDir(config.dataDir)
  const logger = createLogger({ level: config.logLevel as 'info' })
  watchHeap(config.limits.heapPercent)
  const { stdout, stderr } = commandStreams()
  return {
    config,
    logger,
    stdout,
    stderr,
    async withPipeline(name, work) {
      const pipeline = await EmbeddedPipeline.open(config, logger, name)
      try {
        return await work(pipeline)
      } finally {
        await pipeline.close()
      }
    },
    async withStore(name, work) {
      const opened = await openStore(config, logger, name)
      try {
        return await work(opened.store)
      } finally {
        await opened.close()
      }
    },
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}
