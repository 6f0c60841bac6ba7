#!/usr/bin/env node
/**
 * synclog: the sync log of K-12 rostering data. Embedded by default (files in,
 * chDB in the data directory); --clickhouse-url points it at a ClickHouse server.
 */
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { isSynclogError } from '../errors.js'
import { EXIT } from './exit-codes.js'
import { exitOnUnhandled } from '../process/fatal.js'
import { commandExitCode, currentStreams } from './context.js'
import { forwardToService } from '../service/forward.js'
import { terminalText } from '../export/terminal-text.js'
import { registerImport } from './commands/import.js'
import { registerIngest } from './commands/ingest.js'
import { registerReadCommands } from './commands/read.js'
import { registerRoster } from './commands/roster.js'
import { registerCompare } from './commands/compare.js'
import { registerDecisions } from './commands/decide.js'
import { registerDemo } from './commands/demo.js'
import { registerPublish } from './commands/publish.js'
import { registerRun } from './commands/run.js'
import { registerServe } from './commands/serve.js'
import { registerExport } from './commands/export.js'
import { registerSql } from './commands/sql.js'
import { registerAlerts } from './commands/alerts.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

export function buildProgram(): Command {
  const program = new Command('synclog')
    .description('Sync log for K-12 rostering data: OneRoster / SIS changes folded into roster and section actions, stored in ClickHouse')
    .version(pkg.version)
    .option('--data <dir>', 'data directory: embedded ClickHouse, state (env SYNCLOG_DATA; default ./synclog-data)')
    .option('--clickhouse-url <url>', 'use a ClickHouse server instead of the embedded one (env CLICKHOUSE_URL)')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent (env SYNCLOG_LOG_LEVEL)')
    .option('--config <file>', 'JSON config file (default <data>/synclog.config.json)')
    .option('--brokers <list>', 'stream mode: Kafka bootstrap servers, host:port,... (env SYNCLOG_KAFKA_BROKERS; default 127.0.0.1:19092)')
    .option('--registry <url>', 'stream mode: Confluent-compatible schema registry (env SYNCLOG_REGISTRY_URL)')
    .showHelpAfterError()
    .exitOverride()
    // Set before the commands are added, so they inherit it: help survives `| head`, and an
    // argument echoed in an error ("unknown option '\x1b]…'") cannot drive the terminal.
    .configureOutput({
      writeOut: (text) => currentStreams().stdout.write(text),
      writeErr: (text) => currentStreams().stderr.write(terminalText(text, { keepNewlines: true })),
    })
  registerImport(program)
  registerIngest(program)
  registerReadCommands(program)
  registerRoster(program)
  registerCompare(program)
  registerDecisions(program)
  registerDemo(program)
  registerPublish(program)
  registerRun(program)
  registerServe(program, main)
  registerExport(program)
  registerSql(program)
  registerAlerts(program)
  return program
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv as string[])
    return commandExitCode() ?? EXIT.ok
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.error
    if (isSynclogError(e)) {
      currentStreams().stderr.write(`synclog: ${terminalText(e.message, { keepNewlines: true })}\n`)
      return EXIT.error
    }
    currentStreams().stderr.write(`synclog: unexpected error: ${terminalText((e as Error).stack ?? String(e), { keepNewlines: true })}\n`)
    return EXIT.error
  }
}

exitOnUnhandled()
// With a `synclog serve` owning the data directory, a command that needs the store runs there; else here.
forwardToService(process.argv)
  .then((forwarded) => forwarded ?? main(process.argv))
  .then((code) => {
    process.exitCode = code
  })
