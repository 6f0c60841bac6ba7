/**
 * The filters of the sync log, each written down once in LOG_FILTERS: its name,
 * the text it accepts (a zod schema of what a query parameter or a command-line
 * option carries), what it means (the description the OpenAPI document and
 * `synclog log --help` show) and the SQL condition it adds to the store's query.
 * The HTTP query schema (LogFilterQuery), the CLI's options (src/cli/filter-options.ts)
 * and the query builder (logConditions in log-query.ts) are generated from it,
 * so a new filter is one field of LogFilter and one entry of LOG_FILTERS.
 *
 * `contains` is the one filter with two spellings: one query parameter per
 * column (`contains.studentName=smi`) and a repeatable `--contains column=text`.
 */
import { z } from 'zod'
import { ENTITY_TYPES } from '../events/change-event.js'
import { DATE_OR_INSTANT_FORM, parseDateOrInstant } from '../events/instant.js'
import {
  AWAITING_REVIEW,
  LOG_COLUMNS,
  OUTCOMES,
  ROSTER_ACTIONS,
  SECTION_ACTIONS,
  type LogColumn,
  type SyncStatus,
} from '../events/sync-log-event.js'
import { SynclogError } from '../errors.js'
import { setOwn } from '../dict.js'
import { NGRAM_INDEXED_COLUMNS, NGRAM_SIZE } from './ddl.js'
import { equals, inList, timeBounds } from './filter-parts.js'
import { withDefaultWindow } from './log-window.js'
import { parseSide, schoolCondition } from './scope.js'
import { SCOPE_SIDES, type Scope, type ScopeSide } from './types.js'
import type { TimeZones } from '../export/local-time.js'

/** What the store's log queries filter on; every field narrows the rows, none widens the caller's scope. */
export interface LogFilter {
  tenant?: string
  syncId?: string
  /** One school, on a side (default either). */
  school?: string
  schoolSide?: ScopeSide
  /** Rows whose action is one of these; an empty list does not filter. */
  actions?: string[]
  /** Rows whose outcome is one of these; an empty list does not filter. */
  outcomes?: string[]
  /** Rows whose source app is one of these; an empty list does not filter. */
  apps?: string[]
  /** Rows whose entity is one of these; an empty list does not filter. */
  entities?: string[]
  /** Rows dated at or after this instant (ISO instant, or YYYY-MM-DD = start of that UTC day). */
  from?: string
  /** Rows dated at or before this instant (YYYY-MM-DD = through the end of that UTC day). */
  to?: string
  /** Rows with this root cause exactly (`class 'CHEM-02' deleted`): the rows behind one group of a sync's causes. */
  cause?: string
  /** Case-insensitive substring per column; all must match. */
  contains?: { column: LogColumn; text: string }[]
  /** The zones dates are shown in, so a contains on date matches the shown text (absent: only the ISO text). */
  timeZones?: TimeZones
  /** Also rows of syncs whose latest status is Rejected (hidden by default). */
  includeRejected?: boolean
  /** Also rows of syncs awaiting review, On Hold or Preview: proposed, not applied (hidden by default). */
  includeProposed?: boolean
  /** Exact-match keys of drill-down and record history (RECORD_KEYS); no user-facing name. */
  recordSchoolId?: string
  studentNumber?: string
  sectionNumber?: string
  sourcedId?: string
}

// ---------------------------------------------------------------------------
// Values, as text arrives in a query string or an option. Also used by the
// other routes' and commands' parameters, so each kind of value is refused with
// the same words everywhere.
// ---------------------------------------------------------------------------

export const nonBlank = (description?: string) => z.string().min(1, { error: 'must not be blank' }).meta({ description })

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, description: string) =>
  z.enum(values, { error: `must be one of: ${values.join(', ')}` }).meta({ description })

export const dateOrInstant = (description?: string) =>
  z
    .string()
    .refine((v) => parseDateOrInstant(v) !== null, { error: `must be ${DATE_OR_INSTANT_FORM}` })
    .meta({ description, examples: ['2024-09-01', '2024-09-01T06:00:00Z', '2024-09-01T08:00:00+02:00'] })

export const booleanParam = (description?: string) =>
  z
    .enum(['true', 'false'], { error: "must be 'true' or 'false'" })
    .transform((v) => v === 'true')
    .meta({ description })

/** A repeatable parameter: one value arrives as a string, several as a list; both become a list. */
export const repeatable = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(item))

/** Every value of the log's `action` column. */
export const LOG_ACTION_VALUES = [...ROSTER_ACTIONS, ...SECTION_ACTIONS, ...OUTCOMES.filter((o) => o !== 'No Change')] as const

// ---------------------------------------------------------------------------
// The filters.
// ---------------------------------------------------------------------------

type Params = Record<string, unknown>

/** One filter of the log. */
interface FilterSpec<K extends keyof LogFilter, S extends z.ZodType> {
  /** The field of LogFilter it fills. */
  readonly key: K
  /** The value as a query string carries it: a string, or an array for a repeatable filter. */
  readonly value: S
  /** What the filter means, in one or two sentences: the OpenAPI description and the CLI help. */
  readonly description: string
  /** The placeholder of the command-line option's value (`<syncId>`); null for a flag that takes none. */
  readonly arg: string | null
  /** The SQL conditions it adds to the log's queries (values as parameters); [] when not set. */
  readonly where: (filter: LogFilter, params: Params, scope: Scope) => string[]
}

/** Ties an entry's parsed value to the type of the LogFilter field it fills. */
const defineFilter = <K extends keyof LogFilter, S extends z.ZodType<NonNullable<LogFilter[K]>, unknown>>(spec: FilterSpec<K, S>) => spec

type ListKey = 'actions' | 'outcomes' | 'apps' | 'entities'

/** A repeatable filter on one column: rows whose column is one of the values given. */
const anyOf = <K extends ListKey>(key: K, column: string, spec: { item: z.ZodType<string>; arg: string; description: string }) =>
  defineFilter({
    key,
    value: repeatable(spec.item),
    arg: spec.arg,
    description: spec.description,
    where: (f, p) => inList(`f_${key}`, column, f[key], p),
  })

/**
 * Rows of the syncs whose latest status is one of `statuses`. Within a tenant's scope every
 * query using this keeps to that tenant's rows, so the sync id alone decides: a set of one
 * column costs each row read much less than a set of (tenant, syncId) pairs.
 */
function syncsIn(scope: Scope, statuses: readonly SyncStatus[]): string {
  const list = statuses.map((s) => `'${s}'`).join(', ')
  if (scope.tenant === undefined) return `(tenant, syncId) IN (SELECT tenant, syncId FROM sync_runs FINAL WHERE status IN (${list}))`
  return `syncId IN (SELECT syncId FROM sync_runs FINAL WHERE status IN (${list}) AND tenant = {scope_tenant:String})`
}

/**
 * A log row's state, from its sync's latest status (sync-semantics.md, "Reviewing a sync"):
 * Proposed while the sync awaits review, Rejected once rejected, else Applied.
 */
export function rowStateSql(scope: Scope): string {
  return `multiIf(${syncsIn(scope, AWAITING_REVIEW)}, 'Proposed', ${syncsIn(scope, ['Rejected'])}, 'Rejected', 'Applied')`
}

/**
 * The log's filters, by their name in a query string (`--` and the name in
 * kebab-case on the command line), in the order the CLI help and the OpenAPI
 * document list them.
 */
export const LOG_FILTERS = {
  tenant: defineFilter({
    key: 'tenant',
    value: nonBlank(),
    arg: '<district>',
    description: "Rows of this tenant (a district's SIS feed).",
    where: (f, p) => equals('f_tenant', 'tenant', f.tenant, p),
  }),
  sync: defineFilter({
    key: 'syncId',
    value: nonBlank(),
    arg: '<syncId>',
    description: 'Rows of this sync.',
    where: (f, p) => equals('f_sync', 'syncId', f.syncId, p),
  }),
  school: defineFilter({
    key: 'school',
    value: nonBlank(),
    arg: '<schoolId>',
    description: 'Rows where this school is the home or the serving school (or the one side names).',
    where: (f, p) => {
      if (f.school === undefined) return []
      setOwn<unknown>(p, 'f_school', f.school)
      return [schoolCondition(parseSide(f.schoolSide, 'side'), 'f_school')]
    },
  }),
  side: defineFilter({
    key: 'schoolSide',
    value: oneOf(SCOPE_SIDES, 'A side.'),
    arg: '<side>',
    description: 'With school: match the home school (home), the serving school (serving) or either (either, the default).',
    where: () => [], // part of the school's condition
  }),
  action: anyOf('actions', 'action', {
    item: oneOf(LOG_ACTION_VALUES, 'An action.'),
    arg: '<action>',
    description: 'Rows with one of these actions.',
  }),
  outcome: anyOf('outcomes', 'outcome', {
    item: oneOf(OUTCOMES, 'An outcome.'),
    arg: '<outcome>',
    description: 'Rows with one of these outcomes.',
  }),
  app: anyOf('apps', 'app', {
    item: nonBlank('A source application.'),
    arg: '<app>',
    description: 'Rows of syncs from one of these source applications.',
  }),
  entity: anyOf('entities', 'entity', {
    item: oneOf(ENTITY_TYPES, 'An entity type.'),
    arg: '<entity>',
    description: 'Rows about one of these entity types.',
  }),
  from: defineFilter({
    key: 'from',
    value: dateOrInstant(),
    arg: '<date>',
    description: 'Rows dated at or after this (a date is the start of that UTC day). Without from, to or sync: the last 30 days.',
    where: (f, p) => timeBounds('date', f.from, undefined, p),
  }),
  to: defineFilter({
    key: 'to',
    value: dateOrInstant(),
    arg: '<date>',
    description: 'Rows dated at or before this (a date is through the end of that UTC day).',
    where: (f, p) => timeBounds('date', undefined, f.to, p),
  }),
  cause: defineFilter({
    key: 'cause',
    value: nonBlank(),
    arg: '<cause>',
    description: "Rows with exactly this root cause, as the cause column and a sync's causes name it (`class 'CHEM-02' deleted`).",
    where: (f, p) => equals('f_cause', 'cause', f.cause, p),
  }),
  includeRejected: defineFilter({
    key: 'includeRejected',
    value: booleanParam(),
    arg: null,
    description: 'Also rows of syncs rejected after a hold (hidden by default).',
    where: (f, _p, scope) => (f.includeRejected === true ? [] : [`NOT ${syncsIn(scope, ['Rejected'])}`]),
  }),
  includeProposed: defineFilter({
    key: 'includeProposed',
    value: booleanParam(),
    arg: null,
    description:
      'Also the proposed rows of syncs awaiting review (On Hold or Preview), marked Proposed in the state column; hidden by default, since they are not applied.',
    where: (f, _p, scope) => (f.includeProposed === true ? [] : [`NOT ${syncsIn(scope, AWAITING_REVIEW)}`]),
  }),
} as const

export type LogFilterName = keyof typeof LOG_FILTERS

/** The exact-match keys drill-down and record history use: store-internal, with no query parameter or option. */
const RECORD_KEYS = [
  ['recordSchoolId', 'f_record_school'],
  ['studentNumber', 'f_student'],
  ['sectionNumber', 'f_section'],
  ['sourcedId', 'f_sourced'],
] as const

// ---------------------------------------------------------------------------
// contains: a case-insensitive substring on one column.
// ---------------------------------------------------------------------------

/** The key prefix of the per-column substring filters: `contains.studentName=smi`. */
export const CONTAINS_PREFIX = 'contains.'
export const CONTAINS_DESCRIPTION = 'Rows whose column contains this text (case-insensitive); one per column, all must match.'

/** Longest contains text: far longer than any cell a SIS sends, short enough to bound a query's size. */
const MAX_CONTAINS_CHARS = 200_000

const LOG_COLUMN_SET: ReadonlySet<string> = new Set<string>(LOG_COLUMNS)
const NGRAM_COLUMNS: ReadonlySet<string> = new Set<string>(NGRAM_INDEXED_COLUMNS)

export function isLogColumn(name: string): name is LogColumn {
  return LOG_COLUMN_SET.has(name)
}

type ContainsKey = `${typeof CONTAINS_PREFIX}${LogColumn}`

const containsShape = Object.fromEntries(
  LOG_COLUMNS.map((c) => [`${CONTAINS_PREFIX}${c}`, nonBlank(`Rows whose \`${c}\` contains this text (case-insensitive).`).optional()]),
) as Record<ContainsKey, z.ZodOptional<z.ZodString>>

/** `date` as ISO text with Z, the form JSON and CSV carry (and links made before dates were shown in local time). */
const DATE_AS_ISO = `concat(replaceOne(toString(date), ' ', 'T'), 'Z')`
const ASCII = /^[\x20-\x7e]*$/

/**
 * `date` as people see it (src/export/local-time.ts: `YYYY-MM-DD HH:mm` in the
 * row's tenant's zone). formatDateTime takes its zone as a constant, so each
 * configured tenant gets its own branch, and every other tenant the default zone.
 */
function dateAsShown(zones: TimeZones, i: number, params: Params): string {
  const shown = (zoneParam: string): string => `formatDateTime(date, '%Y-%m-%d %H:%i', {${zoneParam}:String})`
  setOwn<unknown>(params, `c${i}_zone`, zones.fallback)
  const branches = zones.configured().flatMap(([tenant, zone], z) => {
    setOwn<unknown>(params, `c${i}_t${z}`, tenant)
    setOwn<unknown>(params, `c${i}_z${z}`, zone)
    return [`tenant = {c${i}_t${z}:String}`, shown(`c${i}_z${z}`)]
  })
  return branches.length === 0 ? shown(`c${i}_zone`) : `multiIf(${[...branches, shown(`c${i}_zone`)].join(', ')})`
}

function containsCondition(column: string, text: string, i: number, params: Params, zones: TimeZones | undefined, scope: Scope): string[] {
  if (!isLogColumn(column)) {
    throw new SynclogError('USAGE', `unknown column '${column}'; columns are: ${LOG_COLUMNS.join(', ')}`)
  }
  if ([...text].length > MAX_CONTAINS_CHARS) {
    throw new SynclogError('USAGE', `the ${column} filter is longer than ${MAX_CONTAINS_CHARS} characters`)
  }
  setOwn<unknown>(params, `c${i}_text`, text)
  if (column === 'date') {
    const iso = `positionCaseInsensitiveUTF8(${DATE_AS_ISO}, {c${i}_text:String}) > 0`
    if (zones === undefined) return [iso]
    return [`(positionCaseInsensitiveUTF8(${dateAsShown(zones, i, params)}, {c${i}_text:String}) > 0 OR ${iso})`]
  }
  // The row's state is read from its sync's status, not stored.
  if (column === 'state') return [`positionCaseInsensitiveUTF8(${rowStateSql(scope)}, {c${i}_text:String}) > 0`]
  setOwn<unknown>(params, `c${i}_col`, column)
  const conditions = [`positionCaseInsensitiveUTF8({c${i}_col:Identifier}, {c${i}_text:String}) > 0`]
  // Lets the column's ngram index skip granules. Only for ASCII text, where
  // lower-casing is exact, so the hint is a superset of the match: it can
  // narrow the scan, never the result.
  if (NGRAM_COLUMNS.has(column) && text.length >= NGRAM_SIZE && ASCII.test(text)) {
    setOwn<unknown>(params, `c${i}_lower`, [text.toLowerCase()])
    conditions.unshift(`multiSearchAny(lowerUTF8({c${i}_col:Identifier}), {c${i}_lower:Array(String)})`)
  }
  return conditions
}

// ---------------------------------------------------------------------------
// Generated: the query schema, the store's filter, the SQL conditions.
// ---------------------------------------------------------------------------

type FilterShape = { [N in LogFilterName]: z.ZodOptional<(typeof LOG_FILTERS)[N]['value']> } & Record<
  ContainsKey,
  z.ZodOptional<z.ZodString>
>

/** The query parameters of every filter: the value's schema, described, and optional. */
export const logFilterShape = Object.assign(
  Object.fromEntries(Object.entries(LOG_FILTERS).map(([name, f]) => [name, f.value.meta({ description: f.description }).optional()])),
  containsShape,
) as FilterShape

/** The filters as query parameters: the querystring schema of the log's routes. */
export const LogFilterQuery = z.strictObject(logFilterShape)
type LogFilterParams = z.output<typeof LogFilterQuery>

/** How a user names a filter where they gave it, so a refusal uses their words. */
interface FilterSurface {
  /** `side` in a query string, `--side` on the command line. */
  readonly spell: (name: string) => string
  /** What precedes the name in a message: `query parameter ` over HTTP. */
  readonly noun: string
}

export const QUERY_STRING: FilterSurface = { spell: (name) => name, noun: 'query parameter ' }
export const COMMAND_LINE: FilterSurface = { spell: (name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, noun: '' }

/**
 * The store's filter from parsed parameters; the 30-day default window applies when no date, sync or record is named.
 * `zones`: the zones dates are shown in, for a contains on date.
 */
export function logFilterOf(q: LogFilterParams, nowMs: number, surface: FilterSurface, zones?: TimeZones): LogFilter {
  if (q.side !== undefined && q.school === undefined) {
    throw new SynclogError(
      'USAGE',
      `${surface.noun}${surface.spell('side')} needs ${surface.spell('school')}: it says on which side of a row the school is matched`,
    )
  }
  const filter: Record<string, unknown> = {}
  for (const [name, f] of Object.entries(LOG_FILTERS)) {
    const value = q[name as LogFilterName]
    if (value !== undefined) setOwn(filter, f.key, value)
  }
  const contains: { column: LogColumn; text: string }[] = []
  for (const column of LOG_COLUMNS) {
    const text = q[`${CONTAINS_PREFIX}${column}`]
    if (text !== undefined) contains.push({ column, text })
  }
  if (contains.length > 0) filter['contains'] = contains
  if (zones !== undefined) filter['timeZones'] = zones
  return withDefaultWindow(filter as LogFilter, nowMs)
}

/** The SQL conditions of a store's filter (the scope's are added by the caller). */
export function filterConditions(scope: Scope, filter: LogFilter, params: Params): string[] {
  const where = Object.values(LOG_FILTERS).flatMap((f) => f.where(filter, params, scope))
  for (const [key, param] of RECORD_KEYS) where.push(...equals(param, key, filter[key], params))
  ;(filter.contains ?? []).forEach(({ column, text }, i) =>
    where.push(...containsCondition(column, text, i, params, filter.timeZones, scope)),
  )
  return where
}
