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
import { timeZonesOf } from '../../config/config.js'

export interface ImportOptions {
  readonly tenant: string
  readonly app: string
  readonly format?: string
  /** Print the summary and hints (false when another command, e.g. demo, prints its own). */
  readonly quiet?: boolean
  /** Compute the sync without applying it (status Preview). */
  readonly preview?: boolean
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
    progress: (log) => (opts.quiet ? undefined : ctx.progress(log, opts.preview === true ? 'Previewing' : 'Importing')),
    preview: opts.preview === true,
  })
  if (!opts.quiet) {
    await format.summary(ctx.stdout, summary, timeZonesOf(ctx.config))
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
  const id = terminalText(syncId)
  const awaiting = status === 'On Hold' || status === 'Preview'
  ctx.stdout.write(
    `\nNext: synclog summary ${id} --by-school · synclog log --sync ${id}${awaiting ? ' --include-proposed' : ''} · synclog report ${id} --out reports/\n`,
  )
  if (status === 'On Hold')
    ctx.stdout.write(
      `This sync is On Hold: nothing was applied. Review its proposed rows, then run synclog approve ${id} --reason "…" or synclog reject ${id} --reason "…".\n`,
    )
  if (status === 'Preview')
    ctx.stdout.write(
      `This is a preview: nothing was applied. Apply it with synclog approve ${id} --reason "…" (while no other sync of the tenant is applied), or discard it with synclog reject ${id} --reason "…".\n`,
    )
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('Import a OneRoster 1.1/1.2 CSV export (folder or .zip with manifest.csv) as one sync of a tenant')
    .argument('<path>', 'folder or .zip holding manifest.csv and the CSV files')
    .requiredOption('--tenant <district>', 'the district whose SIS produced the export')
    .option('--app <name>', 'source application recorded with the sync', 'oneroster-csv')
    .option('--format <format>', formatChoices('summary'), 'table')
    .option(
      '--preview',
      'compute the whole sync (counts, actions, errors) without applying it: it waits in Preview to be applied or discarded',
    )
    .addHelpText('after', '\nExit codes: 0 Completed, Completed with Errors or Preview, 2 Failed, 3 On Hold, 1 usage error.')
    .action(async (path: string, opts: ImportOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const result = await ctx.withPipeline('import', (pipeline) => importBundle(ctx, pipeline, resolve(ctx.cwd, path), opts))
      ctx.setExitCode(result.exitCode)
    })
}

export { EXIT }
