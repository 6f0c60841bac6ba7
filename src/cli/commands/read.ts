/** The read commands: syncs, summary, log, report. */
import { dirname } from 'node:path'
import type { Command } from 'commander'
import { LOG_COLUMNS, type LogColumn } from '../../events/sync-log-event.js'
import type { LogFilter } from '../../clickhouse/sync-log-store.js'
import { writeLogXlsx } from '../../export/xlsx-log-writer.js'
import { writeSyncReports } from '../../export/sync-report.js'
import { writeFileAtomically } from '../../export/atomic-file.js'
import { terminalText } from '../../export/terminal-text.js'
import { checkOutputDir, checkOutputFile } from '../../paths/check-path.js'
import { makeDirectory } from '../../paths/make-directory.js'
import { SynclogError } from '../../errors.js'
import { collect, contextOf } from '../context.js'
import { parseFormat, toJson, printDaily, printLog, printLogStream, printSummary, printSyncs } from '../output.js'
import { ENTITY_TYPES } from '../../events/change-event.js'
import { OUTCOMES } from '../../events/sync-log-event.js'
import { UNSCOPED, parseSide } from '../../clickhouse/scope.js'
import { DEFAULT_WINDOW_DAYS, withDefaultWindow } from '../../clickhouse/log-window.js'
import { DAY_MS } from '../../clickhouse/time.js'
import { DISTRICT_KEY, type LogRecord } from '../../clickhouse/types.js'

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
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


function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new SynclogError('USAGE', `${name} must be a positive whole number (got '${value}')`)
  return n
}

function dateOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+Z?)?$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new SynclogError('USAGE', `${name} must be a date (YYYY-MM-DD) or an ISO date-time (got '${value}')`)
  }
  return value
}

/** `--contains column=text` → a filter; the column must be one of the log's columns. */
export function parseContains(values: readonly string[]): { column: LogColumn; text: string }[] {
  return values.map((v) => {
    const eq = v.indexOf('=')
    const column = eq > 0 ? v.slice(0, eq) : ''
    if (!(LOG_COLUMNS as readonly string[]).includes(column)) {
      throw new SynclogError('USAGE', `--contains takes column=text with a column among: ${LOG_COLUMNS.join(', ')} (got '${v}')`)
    }
    return { column: column as LogColumn, text: v.slice(eq + 1) }
  })
}

interface LogOptions {
  sync?: string; tenant?: string; school?: string; side?: string; action?: string[]; outcome?: string[]; app?: string[]; entity?: string[]
  from?: string; to?: string; contains?: string[]; format?: string; out?: string; limit?: string; cursor?: string; includeRejected?: boolean
}

/** The filter of `synclog log`; without dates, a sync or a record it covers the last 30 days. */
export function logFilterOf(opts: LogOptions, nowMs: number): LogFilter {
  return withDefaultWindow({
    syncId: opts.sync, tenant: opts.tenant, school: opts.school, schoolSide: parseSide(opts.side, '--side'),
    actions: opts.action, outcomes: opts.outcome, apps: opts.app, entities: opts.entity,
    from: dateOption('--from', opts.from), to: dateOption('--to', opts.to), contains: parseContains(opts.contains ?? []),
    includeRejected: opts.includeRejected ?? false,
  }, nowMs)
}

/** Writes to `path` (checked by checkOutputFile) atomically, or to stdout when no path. */
async function toFileOrStdout(path: string | undefined, stdout: NodeJS.WritableStream, write: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  if (path === undefined) return write(stdout)
  await makeDirectory(dirname(path))
  await writeFileAtomically(path, write)
}

export function registerReadCommands(program: Command): void {
  program.command('syncs')
    .description('Sync history, newest first: status, app, records and errors of each sync')
    .option('--tenant <district>', 'only this tenant')
    .option('--app <name>', 'only syncs of this source application')
    .option('--from <date>', 'started on or after')
    .option('--to <date>', 'started before')
    .option('--limit <n>', 'at most n syncs', '50')
    .option('--format <format>', 'table | json | csv', 'table')
    .action(async (opts: { tenant?: string; app?: string; from?: string; to?: string; limit?: string; format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, ['table', 'json', 'csv'])
      const runs = await ctx.withStore('syncs', (store) => store.listSyncs(UNSCOPED, {
        tenant: opts.tenant, app: opts.app, from: dateOption('--from', opts.from), to: dateOption('--to', opts.to), limit: positiveInt('--limit', opts.limit),
      }))
      await printSyncs(ctx.stdout, runs, format)
    })

  program.command('summary')
    .description("A sync's counts per data type (Total, No Change, New, Updated, Deleted, Skipped, Duplicates, Merged, Excluded, Invalid)")
    .argument('<syncId>')
    .option('--by-school', 'add the statistics of each school')
    .option('--format <format>', 'table | json | csv', 'table')
    .action(async (syncId: string, opts: { bySchool?: boolean; format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, ['table', 'json', 'csv'])
      const summary = await ctx.withStore('summary', (store) => store.summary(UNSCOPED, syncId, { bySchool: opts.bySchool ?? false }))
      if (!summary) throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
      await printSummary(ctx.stdout, summary, format)
    })

  program.command('log')
    .description('The sync log, newest first, filtered like the Interdistrict Data Sync Log (last 30 days unless --from, --to or --sync)')
    .option('--sync <syncId>', 'rows of one sync')
    .option('--tenant <district>', 'rows of one tenant')
    .option('--school <schoolId>', 'rows where this school is the home or the serving school (see --side)')
    .option('--side <side>', 'with --school: home | serving | either', 'either')
    .option('--action <action>', 'e.g. "Deleted Roster", "Updated Section Data", "Skipped" (repeatable)', collect)
    .option('--outcome <outcome>', 'New, Updated, Deleted, Skipped, Invalid, Merged, Excluded (repeatable)', collect)
    .option('--app <app>', 'rows of syncs from this source application (repeatable)', collect)
    .option('--entity <entity>', 'org, academicSession, course, user, class, enrollment (repeatable)', collect)
    .option('--from <date>', 'on or after this date (default: 30 days ago)')
    .option('--to <date>', 'on or before this date')
    .option('--contains <column=text>', 'case-insensitive substring on any column, e.g. studentName=smi (repeatable)', collect)
    .option('--include-rejected', 'also show rows of syncs that were rejected after a hold')
    .option('--limit <n>', 'at most n rows (table: 100 by default; json/csv/xlsx: all)')
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option('--format <format>', 'table | json | csv | xlsx', 'table')
    .option('--out <file>', 'write to a file (required for xlsx)')
    .action(async (opts: LogOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, ['table', 'json', 'csv', 'xlsx'])
      if (format === 'xlsx' && opts.out === undefined) throw new SynclogError('USAGE', '--format xlsx needs --out <file.xlsx>')
      const outFile = opts.out === undefined ? undefined : checkOutputFile(opts.out, '--out', ctx.cwd)
      const filter = logFilterOf(opts, Date.now())
      const limit = positiveInt('--limit', opts.limit) ?? (format === 'table' ? 100 : undefined)
      await ctx.withStore('log', async (store) => {
        if (format === 'xlsx') {
          const rows = limited(store.streamLog(UNSCOPED, filter), limit)
          await makeDirectory(dirname(outFile!))
          const n = await writeLogXlsx(outFile!, rows)
          ctx.logger.info({ rows: n, file: outFile }, 'Excel export written')
          ctx.stdout.write(`${n} rows written to ${terminalText(outFile!)}\n`)
          return
        }
        if (format !== 'table' && opts.cursor === undefined) {
          const rows = limited(store.streamLog(UNSCOPED, filter), limit)
          await toFileOrStdout(outFile, ctx.stdout, async (out) => { await printLogStream(out, rows, format) })
          return
        }
        const page = await store.queryLog(UNSCOPED, filter, { limit, cursor: opts.cursor })
        const note = format !== 'table' ? undefined
          : page.nextCursor !== null ? `(first ${page.rows.length} rows; more with --cursor ${page.nextCursor}, or --format csv / xlsx for all)`
            : page.rows.length === 0 && filter.from !== undefined && opts.from === undefined ? '(no rows in the last 30 days; use --from to look further back)'
              : undefined
        await toFileOrStdout(outFile, ctx.stdout, (out) => printLog(out, page.rows, format, note))
        if (format === 'json' && page.nextCursor !== null) ctx.stderr.write(`next page: --cursor ${page.nextCursor}\n`)
      })
    })

  program.command('drilldown')
    .description('The records behind one count of a summary: sync × entity × school × outcome, with their messages')
    .argument('<syncId>')
    .requiredOption('--entity <entity>', 'org, academicSession, course, user, class, enrollment')
    .requiredOption('--outcome <outcome>', 'New, Updated, No Change, Deleted, Skipped, Invalid, Merged, Excluded')
    .option('--school <schoolId>', `the school of the count (omit, or ${DISTRICT_KEY}, for district level)`, '')
    .option('--limit <n>', 'at most n rows', '100')
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option('--format <format>', 'table | json | csv', 'table')
    .action(async (syncId: string, opts: { entity: string; outcome: string; school: string; limit?: string; cursor?: string; format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, ['table', 'json', 'csv'])
      const outcome = oneOf('--outcome', opts.outcome, OUTCOMES)
      const cell = { syncId, entity: oneOf('--entity', opts.entity, ENTITY_TYPES), outcomes: [outcome], schoolId: opts.school }
      const drill = await ctx.withStore('drilldown', (store) => store.drillDown(UNSCOPED, cell, { limit: positiveInt('--limit', opts.limit), cursor: opts.cursor }))
      if (!drill) throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
      if (format === 'json') {
        ctx.stdout.write(`${toJson(drill, 2)}\n`)
        return
      }
      if (format === 'table') {
        const school = drill.cell.schoolId === '' ? DISTRICT_KEY : drill.cell.schoolId
        ctx.stdout.write(terminalText(`${drill.count} ${outcome} ${cell.entity} record(s) in ${school} for sync ${syncId}.${drill.note ? ` ${drill.note}` : ''}`) + '\n')
      }
      const note = format === 'table' && drill.nextCursor !== null ? `(more with --cursor ${drill.nextCursor})` : undefined
      await printLog(ctx.stdout, drill.rows, format, note)
    })

  program.command('history')
    .description("Every row about one student, section or record across syncs, newest first")
    .option('--student <studentNumber>', "a student's history, by student number")
    .option('--section <sectionNumber>', "a section's history, by section number")
    .option('--record <sourcedId>', "any record's history, by sourcedId")
    .option('--limit <n>', 'at most n rows', '100')
    .option('--cursor <cursor>', 'continue after the page that printed this cursor')
    .option('--format <format>', 'table | json | csv', 'table')
    .action(async (opts: { student?: string; section?: string; record?: string; limit?: string; cursor?: string; format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, ['table', 'json', 'csv'])
      const keys = ([['student', opts.student], ['section', opts.section], ['record', opts.record]] as const).filter(([, v]) => v !== undefined)
      if (keys.length !== 1) throw new SynclogError('USAGE', 'history needs exactly one of --student, --section or --record')
      const [kind, id] = keys[0]!
      const page = await ctx.withStore('history', (store) => store.recordHistory(UNSCOPED, { kind, id: id! }, { limit: positiveInt('--limit', opts.limit), cursor: opts.cursor }))
      const note = format === 'table' && page.nextCursor !== null ? `(more with --cursor ${page.nextCursor})` : undefined
      await printLog(ctx.stdout, page.rows, format, note)
      if (format === 'json' && page.nextCursor !== null) ctx.stderr.write(`next page: --cursor ${page.nextCursor}\n`)
    })

  program.command('daily')
    .description('Daily rollups per tenant and app: syncs started that day and their summed counts')
    .option('--tenant <district>', 'only this tenant')
    .option('--app <name>', 'only this source application')
    .option('--from <date>', 'from this day (default: 30 days ago)')
    .option('--to <date>', 'through this day')
    .option('--format <format>', 'table | json | csv', 'table')
    .action(async (opts: { tenant?: string; app?: string; from?: string; to?: string; format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, ['table', 'json', 'csv'])
      const from = dateOption('--from', opts.from) ?? (opts.to === undefined ? new Date(Date.now() - DEFAULT_WINDOW_DAYS * DAY_MS).toISOString().slice(0, 10) : undefined)
      const days = await ctx.withStore('daily', (store) => store.dailyRollups(UNSCOPED, { tenant: opts.tenant, app: opts.app, from, to: dateOption('--to', opts.to) }))
      await printDaily(ctx.stdout, days, format)
    })

  program.command('report')
    .description('Clever-style error reports of a sync: users_sync_report.csv, classes_sync_report.csv, schools_sync_report.csv, ...')
    .argument('<syncId>')
    .requiredOption('--out <dir>', 'directory to write the reports into')
    .action(async (syncId: string, opts: { out: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const outDir = checkOutputDir(opts.out, '--out', ctx.cwd)
      const rows = await ctx.withStore('report', async (store) => {
        if (!(await store.getSync(UNSCOPED, syncId))) throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
        return store.reportRows(UNSCOPED, syncId)
      })
      const files = await writeSyncReports(outDir, syncId, rows)
      if (files.length === 0) ctx.stdout.write(`Sync ${terminalText(syncId)} has no record errors: no report to write.\n`)
      for (const f of files) ctx.stdout.write(`${terminalText(f.file)}\t${f.rows} rows\n`)
    })
}
