/**
 * The composition root of the CLI: turns global flags into config, logger and
 * the adapters a command needs. Nothing deeper reaches for globals.
 *
 * A command runs either in a process of its own, which opens (and locks) the data
 * directory, or inside `synclog serve` for another process (src/service/): then it
 * prints to that process, resolves its paths from that process's directory and works
 * on the service's open store. The handlers cannot tell the difference.
 */
import { Writable } from 'node:stream'
import { realpathSync } from 'node:fs'
import type { Command } from 'commander'
import { loadConfig, type Config, type ConfigFlags } from '../config/config.js'
import { createLogger, type Logger } from '../logging/logger.js'
import { EmbeddedPipeline } from '../pipeline/embedded-pipeline.js'
import { syncDecisions, type DecisionOutcome, type DecisionRequest } from '../pipeline/sync-decisions.js'
import { openStore } from '../pipeline/open-store.js'
import type { SyncLogStore } from '../clickhouse/sync-log-store.js'
import { checkDataDir } from '../paths/check-path.js'
import { commandStreams, type CommandOutput } from './command-output.js'
import { watchHeap } from '../process/fatal.js'
import { prettyFactory } from 'pino-pretty'
import { terminalJson, terminalText } from '../export/terminal-text.js'
import { SynclogError } from '../errors.js'
import { currentInvocation, type Invocation } from '../service/invocation-scope.js'
import { createProgress, type Progress } from './progress.js'

export interface CliContext {
  readonly config: Config
  readonly logger: Logger
  /** Where the command prints; a reader that goes away (`| head`) ends it quietly. */
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  /** Whether stdout is a terminal (a person reads it), in this process or the one that sent the command. */
  readonly stdoutIsTerminal: boolean
  /** The directory the command was started in: relative paths the user gives start there. */
  readonly cwd: string
  /** The command's exit code (the process's, or the forwarded invocation's). */
  setExitCode(code: number): void
  /** Progress of long work on the command's stderr: a bar on a terminal, log lines otherwise. */
  progress(logger: Logger, label: string): Progress
  /** Opens the data directory (lock, ClickHouse, state) for folding events; closed after `work`. In a service: one write at a time. */
  withPipeline<T>(command: string, work: (pipeline: EmbeddedPipeline) => Promise<T>): Promise<T>
  /**
   * Opens the data directory (lock, ClickHouse) for reading the log; closed after `work`.
   * `writes`: the work also changes files of the data directory (an export's checkpoint), so in a service it waits its turn.
   */
  withStore<T>(command: string, work: (store: SyncLogStore) => Promise<T>, writes?: 'writes'): Promise<T>
  /** Approves or rejects a held sync (src/pipeline/sync-decisions.ts): with the pipeline, or in `serve --stream` through the stream for a streamed sync. */
  decide(req: DecisionRequest): Promise<DecisionOutcome>
}

export function contextOf(command: Command, defaults: Partial<ConfigFlags> = {}): CliContext {
  const invocation = currentInvocation()
  const flags = { ...defaults, ...definedOnly(command.optsWithGlobals<ConfigFlags>()) }
  const cwd = invocation?.cwd ?? process.cwd()
  const config = loadConfig(flags, invocation?.env ?? process.env, cwd)
  // A device, a file, a link loop or /proc as data directory fails here, in one line, before anything is opened.
  checkDataDir(config.dataDir)
  if (invocation !== undefined) return forwardedContext(invocation, config)
  const logger = createLogger({ level: config.logLevel as 'info' })
  watchHeap(config.limits.heapPercent)
  const { stdout, stderr } = commandStreams()
  const context: CliContext = {
    config,
    logger,
    stdout,
    stderr,
    stdoutIsTerminal: process.stdout.isTTY === true,
    cwd,
    setExitCode(code) {
      process.exitCode = code
    },
    progress: (log, label) => createProgress(log, label, process.stderr),
    async withPipeline(name, work) {
      const pipeline = await EmbeddedPipeline.open(config, logger, name)
      try {
        return await work(pipeline)
      } finally {
        await pipeline.close()
      }
    },
    async withStore(name, work, writes) {
      const opened = await openStore(config, logger, name, writes === undefined ? 'read' : 'state')
      try {
        return await work(opened.store)
      } finally {
        await opened.close()
      }
    },
    decide: (req) => syncDecisions((work) => context.withPipeline(req.decision, work)).decide(req),
  }
  return context
}

/** A command run by the service for another process: the service's store, that process's streams, paths and level. */
function forwardedContext(invocation: Invocation, config: Config): CliContext {
  const { shared } = invocation
  if (!sameDirectory(config.dataDir, shared.dataDir)) {
    throw new SynclogError(
      'USAGE',
      `the synclog service answering here owns ${shared.dataDir}, not ${config.dataDir}; give --data ${shared.dataDir}, or stop the service`,
    )
  }
  if (config.clickhouse.url !== shared.clickhouseUrl) {
    throw new SynclogError(
      'USAGE',
      `the synclog service that owns ${shared.dataDir} uses ${shared.clickhouseUrl === undefined ? 'the embedded ClickHouse' : 'another ClickHouse'}; ` +
        'run the command with the same --clickhouse-url (or CLICKHOUSE_URL) as the service, or stop the service',
    )
  }
  const logger = createLogger({ level: config.logLevel as 'info', destination: logLines(invocation.stderr, invocation.terminal.stderr) })
  return {
    config,
    logger,
    stdout: invocation.stdout,
    stderr: invocation.stderr,
    stdoutIsTerminal: invocation.terminal.stdout,
    cwd: invocation.cwd,
    setExitCode(code) {
      invocation.exitCode = code
    },
    // The invocation's terminal is another process's: progress goes there as log lines.
    progress: (log, label) => createProgress(log, label, invocation.stderr as unknown as NodeJS.WriteStream),
    withPipeline: (_name, work) => shared.withPipeline(config, logger, work),
    decide: (req) => syncDecisions((work) => shared.withPipeline(config, logger, work), shared.decideElsewhere).decide(req),
    withStore: (_name, work, writes) => (writes === undefined ? work(shared.store) : shared.exclusive(() => work(shared.store))),
  }
}

/**
 * Log lines as a process of its own writes them: on a terminal readable (pretty, without
 * colours: every control character of the text is escaped), else JSON with C1 controls and
 * bidi overrides escaped.
 */
function logLines(out: CommandOutput, terminal: boolean): Writable {
  const pretty = terminal ? prettyFactory({ colorize: false, ignore: 'pid,hostname' }) : undefined
  return new Writable({
    decodeStrings: false,
    // Passed on at once, so every line a command logged is in its stderr before that ends.
    write(line: string | Buffer, _encoding, done) {
      out.write(pretty === undefined ? terminalJson(line.toString()) : terminalText(pretty(line.toString()), { keepNewlines: true }))
      done()
    },
  })
}

function sameDirectory(a: string, b: string): boolean {
  if (a === b) return true
  try {
    return realpathSync(a) === realpathSync(b)
  } catch {
    return false
  }
}

/** The process's exit code after a command, or the forwarded invocation's. */
export function commandExitCode(): number | undefined {
  const invocation = currentInvocation()
  if (invocation !== undefined) return invocation.exitCode
  return typeof process.exitCode === 'number' ? process.exitCode : undefined
}

/** Where a command prints: the process's stdout and stderr, or the forwarded invocation's. */
export function currentStreams(): { stdout: CommandOutput; stderr: CommandOutput } {
  return currentInvocation() ?? commandStreams()
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}
