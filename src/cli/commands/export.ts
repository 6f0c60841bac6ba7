/** `synclog export`: the scheduled export, for cron and systemd timers. */
import type { Command } from 'commander'
import { parseSide } from '../../clickhouse/scope.js'
import { isSynclogError } from '../../errors.js'
import { checkExportName } from '../../export/export-checkpoint.js'
import { formatChoices, formatNamed, logFileFormats, type FormatName } from '../../export/formats/index.js'
import { parseSince, runScheduledExport, type ExportRunResult } from '../../export/scheduled-export.js'
import { terminalText } from '../../export/terminal-text.js'
import { checkOutputDir } from '../../paths/check-path.js'
import { contextOf, type CliContext } from '../context.js'
import { EXIT } from '../exit-codes.js'
import { timeZonesOf } from '../../config/config.js'

interface ExportOptions {
  name: string
  out: string
  format?: string
  perSchool?: boolean
  side?: string
  tenant?: string
  school?: string
  app?: string
  since?: string
  dryRun?: boolean
}

const HELP_AFTER = `
Each run writes the log rows of every sync that finished (Completed, Completed with
Errors, Failed) since this export's last successful run, then records those syncs in
<data>/exports/<name>.checkpoint.json. Syncs Running or On Hold wait for a later run;
rejected syncs are skipped. Files are written whole or not at all.

Exit codes: 0 files written, or nothing new; 1 error (no file of the run is kept and
the checkpoint is unchanged, so the next run exports the same rows).

Example (nightly, after the import):
  synclog export --data /var/lib/synclog --name nightly --out /srv/exports --per-school`

/** The file format of an export: Excel unless asked otherwise. */
const DEFAULT_FORMAT: FormatName = 'xlsx'

/** "Excel or CSV", "Excel, CSV or TSV": the log file formats, for the command's description. */
function formatLabels(): string {
  const labels = logFileFormats().map((f) => f.label)
  return labels.length < 2 ? labels.join('') : `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1]}`
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

function printResult(ctx: CliContext, result: ExportRunResult): void {
  const out = ctx.stdout
  const since = result.previousRunAt ?? result.since ?? 'the first sync'
  if (result.files.length === 0) {
    out.write(`nothing new since ${since}${result.outcome === 'dry-run' ? ' (dry run)' : ''}\n`)
  }
  const prefix = result.outcome === 'dry-run' ? 'would write ' : ''
  for (const f of result.files) out.write(`${prefix}${terminalText(f.path)}\t${plural(f.rows, 'row')}\n`)
  const rejected = result.done.filter((s) => s.status === 'Rejected').length
  const exported = result.done.length - rejected
  const notes = [
    ...(exported > 0 ? [`${plural(exported, 'sync')} ${result.outcome === 'dry-run' ? 'to export' : 'exported'}`] : []),
    ...(rejected > 0 ? [`${plural(rejected, 'rejected sync')} skipped`] : []),
    ...(result.waiting.length > 0 ? [`${plural(result.waiting.length, 'sync')} still running or On Hold, left for a later run`] : []),
    ...(result.outcome === 'dry-run' ? ['dry run: nothing written, checkpoint unchanged'] : []),
  ]
  if (notes.length > 0) out.write(`${notes.join('; ')}\n`)
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(`Scheduled export: the log rows of the syncs that finished since this export last ran, as ${formatLabels()} files`)
    .requiredOption('--name <name>', "the export's name: its checkpoint and the prefix of its files (letters, digits, . _ -)")
    .requiredOption('--out <dir>', 'directory to write the files into (created if missing)')
    .option('--format <format>', formatChoices('log file'), DEFAULT_FORMAT)
    .option('--per-school', 'one file per school that has rows, named after its id and name')
    .option('--side <side>', 'the school a row belongs to: home | serving | either (a row then goes to both)', 'either')
    .option('--tenant <district>', 'only syncs of this tenant')
    .option('--school <schoolId>', 'only rows of this school (on --side)')
    .option('--app <name>', 'only syncs of this source application')
    .option(
      '--since <date>',
      'never export syncs that started before this date (YYYY-MM-DD); bounds the first run and is kept for later ones',
    )
    .option('--dry-run', 'list the files it would write, without writing them or advancing the checkpoint')
    .addHelpText('after', HELP_AFTER)
    .action(async (opts: ExportOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      // Bad options fail before the data directory is opened.
      checkExportName(opts.name)
      const outDir = checkOutputDir(opts.out, '--out', ctx.cwd)
      if (opts.since !== undefined) parseSince(opts.since)
      const format = formatNamed(opts.format ?? DEFAULT_FORMAT, 'log file')
      const side = parseSide(opts.side, '--side')
      const progress = ctx.progress(ctx.logger, `export ${opts.name}`)
      let result: ExportRunResult
      try {
        result = await ctx.withStore(
          'export',
          (store) =>
            runScheduledExport(
              store,
              {
                name: opts.name,
                outDir,
                dataDir: ctx.config.dataDir,
                format,
                perSchool: opts.perSchool ?? false,
                side,
                tenant: opts.tenant,
                school: opts.school,
                app: opts.app,
                since: opts.since,
                dryRun: opts.dryRun ?? false,
                timeZones: timeZonesOf(ctx.config),
              },
              {
                logger: ctx.logger,
                now: Date.now,
                onProgress: (p) => progress.update({ file: p.file, rows: p.rows, bytes: p.done, totalBytes: p.total }),
              },
            ),
          'writes',
        )
      } catch (e) {
        progress.stop()
        if (isSynclogError(e, 'USAGE') || isSynclogError(e, 'DATA_DIR_LOCKED')) throw e
        ctx.logger.error({ err: e, export: opts.name }, 'export failed')
        // A damaged checkpoint stops every run until it is fixed; anything else, the next run retries.
        const next = isSynclogError(e, 'STATE_CORRUPT') ? '' : ': the next run exports these rows'
        ctx.stderr.write(
          `synclog: export '${opts.name}' failed: ${terminalText((e as Error).message)}\n` +
            `No file of this run was kept and its checkpoint is unchanged${next}.\n`,
        )
        ctx.setExitCode(EXIT.error)
        return
      }
      progress.stop()
      printResult(ctx, result)
    })
}
