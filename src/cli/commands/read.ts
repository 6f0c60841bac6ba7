/** The read commands: syncs, summary, log, report. */
import { createWriteStream } from 'node:fs'
import { mkdir, rename } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { finished } from 'node:stream/promises'
import type { Command } from 'commander'
import { LOG_COLUMNS, type LogColumn } from '../../events/sync-log-event.js'
import type { LogFilter } from '../../clickhouse/sync-log-store.js'
import { writeLogXlsx } from '../../export/xlsx-log-writer.js'
import { writeSyncReports } from '../../export/sync-report.js'
import { SynclogError } from '../../errors.js'
import { collect, contextOf } from '../context.js'
import { parseFormat, printLog, printSummary, printSyncs } from '../output.js'

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
  sync?: string; tenant?: string; school?: string; action?: string[]; outcome?: string[]; from?: string; to?: string
  contains?: string[]; format?: string; out?: string; limit?: string; includeRejected?: boolean
}

export function logFilterOf(opts: LogOptions, defaultLimit: number | undefined): LogFilter {
  return {
    syncId: opts.sync, tenant: opts.tenant, school: opts.school, actions: opts.action, outcomes: opts.outcome,
    from: dateOption('--from', opts.from), to: dateOption('--to', opts.to), contains: parseContains(opts.contains ?? []),
    includeRejected: opts.includeRejected ?? false, limit: positiveInt('--limit', opts.limit) ?? defaultLimit,
  }
}

/** Writes to `path` through a temp file renamed at the end, or to stdout when no path. */
async function toFileOrStdout(path: string | undefined, stdout: NodeJS.WritableStream, write: (out: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  if (!path) return write(stdout)
  const target = resolve(path)
  await mkdir(dirname(target), { recursive: true })
  const tmp = `${target}.tmp`
  const out = createWriteStream(tmp)
  await write(out)
  out.end()
  await finished(out)
  await rename(tmp, target)
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
      const runs = await ctx.withStore('syncs', (store) => store.listSyncs({
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
      const summary = await ctx.withStore('summary', (store) => store.summary(syncId, { bySchool: opts.bySchool ?? false }))
      if (!summary) throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
      await printSummary(ctx.stdout, summary, format)
    })

  program.command('log')
    .description('The sync log, newest first, filtered like the Interdistrict Data Sync Log')
    .option('--sync <syncId>', 'rows of one sync')
    .option('--tenant <district>', 'rows of one tenant')
    .option('--school <schoolId>', 'rows where this school is the home or the serving school')
    .option('--action <action>', 'e.g. "Deleted Roster", "Updated Section Data", "Skipped" (repeatable)', collect)
    .option('--outcome <outcome>', 'New, Updated, Deleted, Skipped, Invalid, Merged, Excluded (repeatable)', collect)
    .option('--from <date>', 'on or after this date')
    .option('--to <date>', 'before this date')
    .option('--contains <column=text>', 'case-insensitive substring on any column, e.g. studentName=smi (repeatable)', collect)
    .option('--include-rejected', 'also show rows of syncs that were rejected after a hold')
    .option('--limit <n>', 'at most n rows (table: 100 by default)')
    .option('--format <format>', 'table | json | csv | xlsx', 'table')
    .option('--out <file>', 'write to a file (required for xlsx)')
    .action(async (opts: LogOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, ['table', 'json', 'csv', 'xlsx'])
      if (format === 'xlsx' && !opts.out) throw new SynclogError('USAGE', '--format xlsx needs --out <file.xlsx>')
      const filter = logFilterOf(opts, format === 'table' ? 100 : undefined)
      const rows = await ctx.withStore('log', (store) => store.queryLog(filter))
      if (format === 'xlsx') {
        const n = await writeLogXlsx(resolve(opts.out!), rows)
        ctx.logger.info({ rows: n, file: resolve(opts.out!) }, 'Excel export written')
        ctx.stdout.write(`${n} rows written to ${resolve(opts.out!)}\n`)
        return
      }
      const note = format === 'table' && filter.limit !== undefined && rows.length === filter.limit
        ? `(first ${filter.limit} rows; use --limit, --format csv or --format xlsx for more)` : undefined
      await toFileOrStdout(opts.out, ctx.stdout, (out) => printLog(out, rows, format, note))
    })

  program.command('report')
    .description('Clever-style error reports of a sync: users_sync_report.csv, classes_sync_report.csv, schools_sync_report.csv, ...')
    .argument('<syncId>')
    .requiredOption('--out <dir>', 'directory to write the reports into')
    .action(async (syncId: string, opts: { out: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const rows = await ctx.withStore('report', async (store) => {
        if (!(await store.getSync(syncId))) throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
        return store.reportRows(syncId)
      })
      const files = await writeSyncReports(resolve(opts.out), syncId, rows)
      if (files.length === 0) ctx.stdout.write(`Sync ${syncId} has no record errors: no report to write.\n`)
      for (const f of files) ctx.stdout.write(`${f.file}\t${f.rows} rows\n`)
    })
}
