/**
 * The log's filters as command-line options, generated from LOG_FILTERS
 * (src/clickhouse/log-filter.ts): the HTTP API's query parameters under the
 * same names (`--include-rejected` for `includeRejected`), descriptions, accepted
 * values and refusals. Values go through the same zod schema as a query string.
 */
import type { Command } from 'commander'
import { z } from 'zod'
import {
  COMMAND_LINE,
  CONTAINS_DESCRIPTION,
  CONTAINS_PREFIX,
  LOG_FILTERS,
  LogFilterQuery,
  isLogColumn,
  logFilterOf,
  type LogFilter,
} from '../clickhouse/log-filter.js'
import { LOG_COLUMNS } from '../events/sync-log-event.js'
import type { TimeZones } from '../export/local-time.js'
import { SynclogError } from '../errors.js'
import { dictOf, ownValue } from '../dict.js'
import { quoted } from '../http/http-errors.js'
import { collect } from './context.js'

type Def = z.core.$ZodTypeDef & { innerType?: z.ZodType; out?: z.ZodType; element?: z.ZodType; entries?: Record<string, string> }

/** The item schema of a repeatable value (a list, possibly behind a preprocess), or null. */
function listItem(schema: z.ZodType): z.ZodType | null {
  const def = schema._zod.def as Def
  if (def.type === 'array') return def.element ?? null
  if (def.type === 'pipe' && def.out !== undefined) return listItem(def.out)
  return null
}

/** The values an enum accepts, for the help text; [] for free text. */
function choicesOf(schema: z.ZodType): string[] {
  const def = schema._zod.def as Def
  return def.type === 'enum' && def.entries !== undefined ? Object.values(def.entries) : []
}

/** Adds `--<filter>` for every filter of the log, and `--contains column=text`. */
export function addLogFilterOptions(command: Command): Command {
  for (const [name, f] of Object.entries(LOG_FILTERS)) {
    const flag = COMMAND_LINE.spell(name)
    const item = listItem(f.value)
    const choices = choicesOf(item ?? f.value)
    const help = `${f.description}${choices.length > 0 ? ` One of: ${choices.join(', ')}.` : ''}${item === null ? '' : ' Repeatable.'}`
    if (f.arg === null) command.option(flag, help)
    else if (item !== null) command.option(`${flag} ${f.arg}`, help, collect)
    else command.option(`${flag} ${f.arg}`, help)
  }
  return command.option('--contains <column=text>', `${CONTAINS_DESCRIPTION} E.g. studentName=smi. Repeatable.`, collect)
}

/** How the command line spells a parameter of LogFilterQuery: `--from`, `--contains studentName`. */
function spelled(key: string): string {
  return key.startsWith(CONTAINS_PREFIX) ? `--contains ${key.slice(CONTAINS_PREFIX.length)}` : COMMAND_LINE.spell(key)
}

/** One refusal, worded as the HTTP API words it for a query parameter. */
function describeIssue(issue: z.core.$ZodIssue, input: Readonly<Record<string, unknown>>): string {
  const [key, index] = issue.path
  if (typeof key !== 'string') return issue.message
  let value = ownValue(input, key)
  if (typeof index === 'number' && Array.isArray(value)) value = value[index]
  const message = issue.message.startsWith('must') ? issue.message : `is invalid: ${issue.message}`
  return `${spelled(key)} ${message} (got ${quoted(value)})`
}

/** The value of option `--<name>` through a schema of log-filter.ts; a USAGE error in the words the HTTP API uses. */
export function parseOption<S extends z.ZodType>(name: string, schema: S, value: string | undefined): z.output<S> | undefined {
  if (value === undefined) return undefined
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  throw new SynclogError(
    'USAGE',
    parsed.error.issues.map((issue) => describeIssue({ ...issue, path: [name, ...issue.path] }, { [name]: value })).join('; '),
  )
}

/** `--contains column=text` values as the query parameters `contains.column`. */
function containsParams(values: readonly string[]): [string, string][] {
  const seen = new Set<string>()
  return values.map((v) => {
    const eq = v.indexOf('=')
    const column = eq > 0 ? v.slice(0, eq) : ''
    if (!isLogColumn(column)) {
      throw new SynclogError('USAGE', `--contains takes column=text with a column among: ${LOG_COLUMNS.join(', ')} (got ${quoted(v)})`)
    }
    if (seen.has(column)) throw new SynclogError('USAGE', `--contains ${column} is given twice; give each column once`)
    seen.add(column)
    return [`${CONTAINS_PREFIX}${column}`, v.slice(eq + 1)]
  })
}

/** The store's filter from the options commander parsed; the 30-day default window applies as over HTTP; `zones` as logFilterOf's. */
export function logFilterOfOptions(opts: Readonly<Record<string, unknown>>, nowMs: number, zones?: TimeZones): LogFilter {
  const entries: [string, unknown][] = []
  for (const [name, f] of Object.entries(LOG_FILTERS)) {
    const value = ownValue(opts, name)
    if (value !== undefined) entries.push([name, f.arg === null ? String(value) : value])
  }
  const contains = ownValue(opts, 'contains')
  if (Array.isArray(contains)) entries.push(...containsParams(contains as string[]))
  const input = dictOf(entries)
  const parsed = LogFilterQuery.safeParse(input)
  if (!parsed.success) throw new SynclogError('USAGE', parsed.error.issues.map((issue) => describeIssue(issue, input)).join('; '))
  return logFilterOf(parsed.data, nowMs, COMMAND_LINE, zones)
}
