/** The read commands: syncs, summary, log, report. */
import { dirname } from 'node:path'
import type { Command } from 'commander'
import { writeFileAtomically } from '../../export/atomic-file.js'
import { terminalText } from '../../export/terminal-text.js'
import { checkOutputDir, checkOutputFile } from '../../paths/check-path.js'
import { makeDirectory } from '../../paths/make-directory.js'
import { SynclogError } from '../../errors.js'
import { contextOf } from '../context.js'
import { addLogFilterOptions, logFilterOfOptions, parseOption } from '../filter-options.js'
import { parseFormat } from '../output.js'
import { whileReaderThere } from '../command-output.js'
import { formatChoices, formatNames, formatsFor, type FormatName } from '../../export/formats/index.js'
import { ENTITY_TYPES } from '../../events/change-event.js'
import { OUTCOMES } from '../../events/sync-log-event.js'
import { UNSCOPED } from '../../clickhouse/scope.js'
import { DEFAULT_WINDOW_DAYS } from '../../clickhouse/log-window.js'
import { dateOrInstant } from '../../clickhouse/log-filter.js'
import { DAY_MS } from '../../events/instant.js'
import { DISTRICT_KEY, type LogRecord } from '../../clickhouse/types.js'
import { isUncausedError } from '../../clickhouse/cause-groups.js'
import { timeZonesOf } from '../../config/config.js'

/** The error reports' format when `report` is given none. */
const DEFAULT_REPORT_FORMAT: FormatName = 'clever'

export function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new SynclogError('USAGE', `${option} must be one of ${allowed.join(', ')} (got '${value}')`)
}

async function* limited(rows: AsyncIterable<LogRecord>, limit: number | undefined): AsyncGenerator<LogRecord> {
  let n = 0
  for await (const row of rows) {
    if (limit !== undefined && n >= limit) return
    n++
    yield row
  }
}

export function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new SynclogError('USAGE', `${name} must be a positive whole number (got '${value}')`)
  return n
}

const dateOption = (name: string, value: string | undefined): string | undefined => parseOption(name, dateOrInstant(), value)

interface LogOptions {
  format?: string
  out?: string
  limit?: string
  cursor?: string
  from?: string
}

/** Writes to `path` (checked by checkOutputFile) atomically, or to stdout when no path. */
async function toFileOrStdout(
  path: string | undefined,
  stdout: NodeJS.WritableStream,
  write: (out: NodeJS.WritableStream) => Promise<void>,
): Promise<void> {
  if (path === undefined) return write(stdout)
  await makeDirectory(dirname(path))
  await writeFileAtomically(path, write)
}

export function registerReadCommands(program: Command): void {
  program
    .command('syncs')
    .description('Sync history, newest first: status, app, records and errors of each sync')
    .option('--tenant <district>', 'only this tenant')
    .option('--app <name>', 'only syncs of this source application')
    .option('--from <date>', 'started on or after')
    .option('--to <date>', 'started before')
    .option('--limit <n>', 'at most n syncs', '50')
    .option('--format <format>', formatChoices('syncs'), 'table')
    .action(async (opts: { tenant?: string; app?: string; from?: string; to?: string; limit?: string; format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, 'syncs')
      const runs = await ctx.withStore('syncs', (store) =>
        store.listSyncs(UNSCOPED, {
          tenant: opts.tenant,
          app: opts.app,
          from: dateOption('from', opts.from),
          to: dateOption('to', opts.to),
          limit: positiveInt('--limit', opts.limit),
        }),
      )
      await format.syncs(ctx.stdout, runs, timeZonesOf(ctx.config))
    })

  program
    .command('summary')
    .description("A sync's counts per data type (Total, No Change, New, Updated, Deleted, Skipped, Duplicates, Merged, Excluded, Invalid)")
    .argument('<syncId>')
    .option('--by-school', 'add the statistics of each school')
    .option('--format <format>', formatChoices('summary'), 'table')
    .action(async (syncId: string, opts: { bySchool?: boolean; format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, 'summary')
      const summary = await ctx.withStore('summary', (store) => store.summary(UNSCOPED, syncId, { bySchool: opts.bySchool ?? false }))
      if (!summary) throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
      await format.summary(ctx.stdout, summary, timeZonesOf(ctx.config))
    })

  addLogFilterOptions(
    program
      .command('log')
      .description(
        'The sync log, newest first, filtered like the Interdistrict Data Sync Log (last 30 days unless --from, --to or --sync)',
      ),
  )
    .option('--limit <n>', `at most n rows (${formatNames('log').join('/')}: all; otherwise 100 by default)`)
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option('--format <format>', formatChoices(['logPage', 'log']), 'table')
    .option(
      '--out <file>',
      `write to a file (required for ${formatsFor('log')
        .filter((f) => f.binary)
        .map((f) => f.name)
        .join(', ')})`,
    )
    .action(async (opts: LogOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, ['logPage', 'log'])
      if (format.binary && opts.out === undefined)
        throw new SynclogError('USAGE', `--format ${format.name} needs --out <file.${format.file?.extension ?? format.name}>`)
      const outFile = opts.out === undefined ? undefined : checkOutputFile(opts.out, '--out', ctx.cwd)
      const zones = timeZonesOf(ctx.config)
      const filter = logFilterOfOptions(opts as Record<string, unknown>, Date.now(), zones)
      const limit = positiveInt('--limit', opts.limit) ?? (format.forPeople ? 100 : undefined)
      await ctx.withStore('log', async (store) => {
        // Every row as it comes, unless the format only shows pages or a page was asked for.
        if (format.log !== undefined && (opts.cursor === undefined || format.logPage === undefined)) {
          const rows = limited(store.streamLog(UNSCOPED, filter), limit)
          let n = 0
          await toFileOrStdout(outFile, ctx.stdout, async (out) => {
            n = await format.log!(out, whileReaderThere(rows, out), zones)
          })
          if (format.binary) {
            ctx.logger.info({ rows: n, file: outFile, format: format.name }, 'log file written')
            ctx.stdout.write(`${n} rows written to ${terminalText(outFile!)}\n`)
          }
          return
        }
        const page = await store.queryLog(UNSCOPED, filter, { limit, cursor: opts.cursor })
        const allRows = formatNames('log file').join(' / ')
        const note =
          page.nextCursor !== null
            ? `(first ${page.rows.length} rows; more with --cursor ${page.nextCursor}, or --format ${allRows} for all)`
            : page.rows.length === 0 && filter.from !== undefined && opts.from === undefined
              ? '(no rows in the last 30 days; use --from to look further back)'
              : undefined
        await toFileOrStdout(outFile, ctx.stdout, (out) => format.logPage!(out, page.rows, note, zones))
        if (!format.forPeople && page.nextCursor !== null) ctx.stderr.write(`next page: --cursor ${page.nextCursor}\n`)
      })
    })

  program
    .command('drilldown')
    .description('The records behind one count of a summary: sync × entity × school × outcome, with their messages')
    .argument('<syncId>')
    .requiredOption('--entity <entity>', 'org, academicSession, course, user, class, enrollment')
    .requiredOption('--outcome <outcome>', 'New, Updated, No Change, Deleted, Skipped, Invalid, Merged, Excluded')
    .option('--school <schoolId>', `the school of the count (omit, or ${DISTRICT_KEY}, for district level)`, '')
    .option('--limit <n>', 'at most n rows', '100')
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option('--format <format>', formatChoices('drillDown'), 'table')
    .action(
      async (
        syncId: string,
        opts: { entity: string; outcome: string; school: string; limit?: string; cursor?: string; format?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd)
        const format = parseFormat(opts.format, 'drillDown')
        const outcome = oneOf('--outcome', opts.outcome, OUTCOMES)
        const cell = { syncId, entity: oneOf('--entity', opts.entity, ENTITY_TYPES), outcomes: [outcome], schoolId: opts.school }
        const drill = await ctx.withStore('drilldown', (store) =>
          store.drillDown(UNSCOPED, cell, { limit: positiveInt('--limit', opts.limit), cursor: opts.cursor }),
        )
        if (!drill) throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
        const note = drill.nextCursor !== null ? `(more with --cursor ${drill.nextCursor})` : undefined
        await format.drillDown(ctx.stdout, drill, note, timeZonesOf(ctx.config))
      },
    )

  program
    .command('history')
    .description('Every row about one student, section or record across syncs, newest first')
    .option('--student <studentNumber>', "a student's history, by student number")
    .option('--section <sectionNumber>', "a section's history, by section number")
    .option('--record <sourcedId>', "any record's history, by sourcedId")
    .option('--limit <n>', 'at most n rows', '100')
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option('--format <format>', formatChoices('logPage'), 'table')
    .action(
      async (
        opts: { student?: string; section?: string; record?: string; limit?: string; cursor?: string; format?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd)
        const format = parseFormat(opts.format, 'logPage')
        const keys = (
          [
            ['student', opts.student],
            ['section', opts.section],
            ['record', opts.record],
          ] as const
        ).filter(([, v]) => v !== undefined)
        if (keys.length !== 1) throw new SynclogError('USAGE', 'history needs exactly one of --student, --section or --record')
        const [kind, id] = keys[0]!
        const page = await ctx.withStore('history', (store) =>
          store.recordHistory(UNSCOPED, { kind, id: id! }, { limit: positiveInt('--limit', opts.limit), cursor: opts.cursor }),
        )
        const note = page.nextCursor !== null ? `(more with --cursor ${page.nextCursor})` : undefined
        await format.logPage(ctx.stdout, page.rows, note, timeZonesOf(ctx.config))
        if (!format.forPeople && page.nextCursor !== null) ctx.stderr.write(`next page: --cursor ${page.nextCursor}\n`)
      },
    )

  program
    .command('daily')
    .description('Daily rollups per tenant and app: syncs started that day and their summed counts')
    .option('--tenant <district>', 'only this tenant')
    .option('--app <name>', 'only this source application')
    .option('--from <date>', 'from this day (default: 30 days ago)')
    .option('--to <date>', 'through this day')
    .option('--format <format>', formatChoices('daily'), 'table')
    .action(async (opts: { tenant?: string; app?: string; from?: string; to?: string; format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, 'daily')
      const from =
        dateOption('from', opts.from) ??
        (opts.to === undefined ? new Date(Date.now() - DEFAULT_WINDOW_DAYS * DAY_MS).toISOString().slice(0, 10) : undefined)
      const days = await ctx.withStore('daily', (store) =>
        store.dailyRollups(UNSCOPED, { tenant: opts.tenant, app: opts.app, from, to: dateOption('to', opts.to) }),
      )
      await format.daily(ctx.stdout, days)
    })

  program
    .command('report')
    .description(
      'Clever-style error reports of a sync: users_sync_report.csv, classes_sync_report.csv, schools_sync_report.csv, ...; ' +
        'with --group, its rows grouped by root cause ("class \'CHEM-02\' deleted: 35 enrollments") and the errors that have none',
    )
    .argument('<syncId>')
    .option('--out <dir>', 'directory to write the reports into (required without --group)')
    .option('--group', 'print the rows grouped by root cause instead of writing report files')
    .option(
      '--format <format>',
      `${formatChoices('report')} (default ${DEFAULT_REPORT_FORMAT}); with --group: ${formatChoices('causes')} (default table)`,
    )
    .action(async (syncId: string, opts: { out?: string; group?: boolean; format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      if (opts.group === true) {
        if (opts.out !== undefined)
          throw new SynclogError('USAGE', '--group prints to the terminal; drop --out, or drop --group to write report files')
        const format = parseFormat(opts.format, 'causes')
        const { groups, uncaused } = await ctx.withStore('report', async (store) => {
          const found = await store.causeGroups(UNSCOPED, syncId)
          if (found === null) throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
          return { groups: found, uncaused: (await store.reportRows(UNSCOPED, syncId)).filter(isUncausedError) }
        })
        await format.causes(ctx.stdout, groups, uncaused, timeZonesOf(ctx.config))
        return
      }
      if (opts.out === undefined)
        throw new SynclogError('USAGE', 'report needs --out <dir> for its files, or --group to print the rows grouped by cause')
      const format = parseFormat(opts.format, 'report', DEFAULT_REPORT_FORMAT)
      const outDir = checkOutputDir(opts.out, '--out', ctx.cwd)
      const rows = await ctx.withStore('report', async (store) => {
        if (!(await store.getSync(UNSCOPED, syncId)))
          throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
        return store.reportRows(UNSCOPED, syncId)
      })
      const files = await format.report(outDir, syncId, rows)
      if (files.length === 0) ctx.stdout.write(`Sync ${terminalText(syncId)} has no record errors: no report to write.\n`)
      for (const f of files) ctx.stdout.write(`${terminalText(f.file)}\t${f.rows} rows\n`)
    })
}
