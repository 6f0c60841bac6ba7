import { resolve } from 'node:path'
import type { Command } from 'commander'
import { UNSCOPED } from '../../clickhouse/scope.js'
import { contextOf, type CliContext } from '../context.js'
import { EXIT, exitCodeFor } from '../exit-codes.js'
import { parseFormat } from '../output.js'
import { formatChoices } from '../../export/formats/index.js'
import { formatTextTable } from '../../export/text-table.js'
import { terminalText } from '../../export/terminal-text.js'
import type { EmbeddedPipeline } from '../../pipeline/embedded-pipeline.js'
import { importBundle as importOneBundle } from '../../pipeline/import-bundle.js'

export interface ImportOptions {
  readonly tenant: string
  readonly app: string
  readonly format?: string
  /** Print the summary and hints (false when another command, e.g. demo, prints its own). */
  readonly quiet?: boolean
}

export interface ImportResult {
  readonly syncId: string
  readonly exitCode: number
}

/** Imports one OneRoster bundle as one sync through an open pipeline, and prints its summary. */
export async function importBundle(ctx: CliContext, pipeline: EmbeddedPipeline, path: string, opts: ImportOptions): Promise<ImportResult> {
  const format = parseFormat(opts.format, 'summary')
  const { syncId, summary } = await importOneBundle(pipeline, {
    path,
    tenant: opts.tenant,
    app: opts.app,
    config: ctx.config,
    logger: ctx.logger,
    progress: (log) => (opts.quiet ? undefined : ctx.progress(log, 'Importing')),
  })
  if (!opts.quiet) {
    await format.summary(ctx.stdout, summary)
    if (format.forPeople) await printNextSteps(ctx, pipeline, syncId, summary.status)
  }
  return { syncId, exitCode: exitCodeFor([summary.status]) }
}

async function printNextSteps(ctx: CliContext, pipeline: EmbeddedPipeline, syncId: string, status: string): Promise<void> {
  const problems = await pipeline.store.reportRows(UNSCOPED, syncId)
  if (problems.length > 0) {
    ctx.stdout.write(`\n${problems.length} record problem(s); the first ${Math.min(10, problems.length)}:\n`)
    ctx.stdout.write(
      `${formatTextTable(
        problems.slice(0, 10) as unknown as Record<string, string>[],
        [
          ['outcome', 'Outcome'],
          ['entity', 'Entity'],
          ['sourcedId', 'Sourced ID'],
          ['field', 'Field'],
          ['message', 'Message'],
        ],
        { maxWidth: 70 },
      )}\n`,
    )
  }
  ctx.stdout.write(
    `\nNext: synclog summary ${terminalText(syncId)} --by-school · synclog log --sync ${syncId} · synclog report ${syncId} --out reports/\n`,
  )
  if (status === 'On Hold')
    ctx.stdout.write(`This sync is On Hold: review it, then run synclog approve ${syncId} or synclog reject ${syncId}.\n`)
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('Import a OneRoster 1.1/1.2 CSV export (folder or .zip with manifest.csv) as one sync of a tenant')
    .argument('<path>', 'folder or .zip holding manifest.csv and the CSV files')
    .requiredOption('--tenant <district>', 'the district whose SIS produced the export')
    .option('--app <name>', 'source application recorded with the sync', 'oneroster-csv')
    .option('--format <format>', formatChoices('summary'), 'table')
    .addHelpText('after', '\nExit codes: 0 Completed or Completed with Errors, 2 Failed, 3 On Hold, 1 usage error.')
    .action(async (path: string, opts: ImportOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const result = await ctx.withPipeline('import', (pipeline) => importBundle(ctx, pipeline, resolve(ctx.cwd, path), opts))
      ctx.setExitCode(result.exitCode)
    })
}

export { EXIT }
