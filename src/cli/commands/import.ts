import { resolve } from 'node:path'
import type { Command } from 'commander'
import { UNSCOPED } from '../../clickhouse/scope.js'
import { contextOf, type CliContext } from '../context.js'
import { EXIT, exitCodeFor } from '../exit-codes.js'
import { parseFormat, printSummary } from '../output.js'
import { readOneRosterBundle } from '../../oneroster/read-bundle.js'
import { inputFingerprint } from '../../oneroster/sync-identity.js'
import { ImportJournal } from '../../state/import-journal.js'
import { formatTextTable } from '../../export/text-table.js'
import { terminalText } from '../../export/terminal-text.js'
import type { EmbeddedPipeline } from '../../pipeline/embedded-pipeline.js'
import { SynclogError } from '../../errors.js'

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

/** Imports one OneRoster bundle as one sync through an open pipeline. */
export async function importBundle(ctx: CliContext, pipeline: EmbeddedPipeline, path: string, opts: ImportOptions): Promise<ImportResult> {
  const format = parseFormat(opts.format, ['table', 'json'])
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(opts.tenant)) {
    throw new SynclogError('USAGE', `--tenant '${opts.tenant}' must be letters, digits, '.', '_' or '-' (at most 100)`)
  }
  const journal = new ImportJournal(ctx.config.dataDir)
  const now = new Date()
  const { intent, resumed } = await journal.begin({ tenant: opts.tenant, app: opts.app, fingerprint: await inputFingerprint(path, now, ctx.config.limits) }, now)
  const log = ctx.logger.child({ tenant: intent.tenant, syncId: intent.syncId })
  if (resumed) log.info('resuming the interrupted import of the same input under its first sync id')
  log.info({ path }, 'import started')

  const progress = opts.quiet ? undefined : ctx.progress(log, 'Importing')
  const report = await pipeline.apply(readOneRosterBundle({
    path, tenant: intent.tenant, syncId: intent.syncId, app: intent.app, occurredAt: intent.occurredAt, limits: ctx.config.limits,
    onProgress: (p) => progress?.update(p),
    onIssue: (issue) => log.warn({ file: issue.file, line: issue.line, field: issue.field }, issue.message),
  }))
  progress?.stop()
  await journal.finish()
  for (const r of report.rejected) log.warn({ eventId: r.eventId, where: r.where }, r.reason)

  const summary = await pipeline.store.summary(UNSCOPED, intent.syncId, { bySchool: false })
  if (!summary) throw new SynclogError('SYNC_NOT_FOUND', `sync ${intent.syncId} was not recorded; see the log above`)
  log.info({ status: summary.status, events: report.events, rows: report.rowsWritten }, 'import finished')
  if (!opts.quiet) {
    await printSummary(ctx.stdout, summary, format)
    if (format === 'table') await printNextSteps(ctx, pipeline, intent.syncId, summary.status)
  }
  return { syncId: intent.syncId, exitCode: exitCodeFor([summary.status]) }
}

async function printNextSteps(ctx: CliContext, pipeline: EmbeddedPipeline, syncId: string, status: string): Promise<void> {
  const problems = await pipeline.store.reportRows(UNSCOPED, syncId)
  if (problems.length > 0) {
    ctx.stdout.write(`\n${problems.length} record problem(s); the first ${Math.min(10, problems.length)}:\n`)
    ctx.stdout.write(`${formatTextTable(problems.slice(0, 10) as unknown as Record<string, string>[], [
      ['outcome', 'Outcome'], ['entity', 'Entity'], ['sourcedId', 'Sourced ID'], ['field', 'Field'], ['message', 'Message'],
    ], { maxWidth: 70 })}\n`)
  }
  ctx.stdout.write(`\nNext: synclog summary ${terminalText(syncId)} --by-school · synclog log --sync ${syncId} · synclog report ${syncId} --out reports/\n`)
  if (status === 'On Hold') ctx.stdout.write(`This sync is On Hold: review it, then run synclog approve ${syncId} or synclog reject ${syncId}.\n`)
}

export function registerImport(program: Command): void {
  program.command('import')
    .description('Import a OneRoster 1.1/1.2 CSV export (folder or .zip with manifest.csv) as one sync of a tenant')
    .argument('<path>', 'folder or .zip holding manifest.csv and the CSV files')
    .requiredOption('--tenant <district>', 'the district whose SIS produced the export')
    .option('--app <name>', 'source application recorded with the sync', 'oneroster-csv')
    .option('--format <format>', 'table | json', 'table')
    .addHelpText('after', '\nExit codes: 0 Completed or Completed with Errors, 2 Failed, 3 On Hold, 1 usage error.')
    .action(async (path: string, opts: ImportOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const result = await ctx.withPipeline('import', (pipeline) => importBundle(ctx, pipeline, resolve(ctx.cwd, path), opts))
      ctx.setExitCode(result.exitCode)
    })
}

export { EXIT }
