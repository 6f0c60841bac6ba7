/**
 * The zod schemas of the HTTP API: the query and path parameters every route
 * validates (and documents), and the response shapes the OpenAPI document shows.
 * The response schemas are registered under an id in `apiSchemas`, which becomes
 * the document's `components.schemas`.
 */
import { z } from 'zod'
import { ENTITY_TYPES } from '../events/change-event.js'
import { OUTCOMES, ROW_STATES, SYNC_STATUSES } from '../events/sync-log-event.js'
import { LOG_ACTION_VALUES, booleanParam, dateOrInstant, logFilterShape, nonBlank, oneOf, repeatable } from '../clickhouse/log-filter.js'
import { PERMISSIONS, TOKEN_ROLES } from './api-tokens.js'
import {
  DISTRICT_KEY,
  SCOPE_SIDES,
  type DailyRollup,
  type DrillDown,
  type LogPage,
  type LogRecord,
  type OutcomeCountsJson,
  type SchoolEntry,
  type Scope,
  type SyncRun,
  type SyncSummary,
} from '../clickhouse/types.js'

/** The most rows one page of the log (or one sync history) returns. */
export const MAX_PAGE_LIMIT = 10_000
export const DEFAULT_PAGE_LIMIT = 100

// ---------------------------------------------------------------------------
// Parameters. Query strings carry text; numbers and booleans are coerced here.
// The log's filters, and the kinds of values they take, are src/clickhouse/log-filter.ts.
// ---------------------------------------------------------------------------

export const limitParam = (description: string) =>
  z.coerce
    .number({ error: `must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
    .int({ error: `must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
    .min(1, { error: `must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
    .max(MAX_PAGE_LIMIT, { error: `must be a whole number from 1 to ${MAX_PAGE_LIMIT}` })
    .default(DEFAULT_PAGE_LIMIT)
    .meta({ description })

const cursorParam = z
  .string()
  .min(1, { error: 'must not be blank' })
  .meta({ description: 'The `nextCursor` of the previous page (opaque). Omit for the first page.' })

/** `{ syncId }` in the path. */
export const SyncIdParams = z.strictObject({
  syncId: z.string().min(1, { error: 'must not be blank' }).meta({ description: 'The sync id, as `GET /api/v1/syncs` lists it.' }),
})

export const NoQuery = z.strictObject({})

/** `GET /api/v1/log`: the filters and one page. */
export const LogPageQuery = z.strictObject({
  ...logFilterShape,
  limit: limitParam('Rows per page.'),
  cursor: cursorParam.optional(),
})

export const SyncListQuery = z.strictObject({
  tenant: nonBlank('Syncs of this tenant.').optional(),
  app: nonBlank('Syncs of this source application.').optional(),
  from: dateOrInstant('Syncs started at or after this.').optional(),
  to: dateOrInstant('Syncs started at or before this (a date is through the end of that UTC day).').optional(),
  status: repeatable(oneOf(SYNC_STATUSES, 'A status.'))
    .meta({ description: 'Syncs at this latest status; repeat it for several (`On Hold` and `Preview`: the syncs waiting for review).' })
    .optional(),
  limit: limitParam('At most this many syncs, newest first.'),
})

export const SummaryQuery = z.strictObject({
  bySchool: booleanParam('Add the counts of each school (district-level records under `(district)`).').optional(),
})

export const DrillDownQuery = z.strictObject({
  entity: oneOf(ENTITY_TYPES, 'The entity type of the count.'),
  school: z
    .string()
    .meta({
      description: `The school id of the count; \`${DISTRICT_KEY}\` or empty for district-level records; omit for every school the token may see (the entity's total).`,
    })
    .optional(),
  outcome: repeatable(oneOf(OUTCOMES, 'An outcome.'))
    .meta({ description: 'The outcome of the count; repeat it for a sum (Merged and Excluded for Duplicates); omit for the Total.' })
    .optional(),
  limit: limitParam('Rows per page.'),
  cursor: cursorParam.optional(),
})

export const HistoryQuery = z.strictObject({
  kind: oneOf(
    ['student', 'section', 'record'],
    'Whose history: a student (by student number), a section (by section number) or any record (by sourcedId).',
  ),
  id: nonBlank('The student number, section number or sourcedId.'),
  limit: limitParam('Rows per page.'),
  cursor: cursorParam.optional(),
})

export const RollupQuery = z.strictObject({
  tenant: nonBlank('Days of this tenant.').optional(),
  app: nonBlank('Days of this source application.').optional(),
  from: dateOrInstant('Days on or after this.').optional(),
  to: dateOrInstant('Days on or before this.').optional(),
})

// ---------------------------------------------------------------------------
// Responses, registered for the OpenAPI document's components.
// ---------------------------------------------------------------------------

/**
 * Where the response schemas are registered under their id: zod's global registry,
 * the one the OpenAPI generation reads (with every field's `.meta()` description).
 */
export const apiSchemas = z.globalRegistry

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
/** Fails to compile when a response schema and the store's type drift apart. */
export const sameShape = <A, B>(ok: Same<A, B>): Same<A, B> => ok

export const ScopeSchema = z
  .object({
    tenant: z.string().optional().meta({ description: 'The tenant the token is limited to; absent = every tenant (operator).' }),
    school: z
      .object({ id: z.string(), side: z.enum(SCOPE_SIDES) })
      .optional()
      .meta({ description: 'The one school of that tenant the token is limited to, and on which side of a row.' }),
  })
  .register(apiSchemas, { id: 'Scope', description: 'What a token may see.' })
sameShape<z.infer<typeof ScopeSchema>, Scope>(true)

export const OutcomeCountsSchema = z
  .object({
    total: z.number().int(),
    new: z.number().int(),
    updated: z.number().int(),
    noChange: z.number().int(),
    deleted: z.number().int(),
    skipped: z.number().int(),
    invalid: z.number().int(),
    duplicates: z.number().int(),
    merged: z.number().int(),
    excluded: z.number().int(),
  })
  .register(apiSchemas, { id: 'OutcomeCounts' })
sameShape<z.infer<typeof OutcomeCountsSchema>, OutcomeCountsJson>(true)

const headerShape = {
  syncId: z.string(),
  tenant: z.string(),
  app: z.string(),
  status: z.enum(SYNC_STATUSES),
  startedAt: z.string().meta({ description: 'ISO instant.' }),
  endedAt: z.string().meta({ description: 'ISO instant, or empty while the sync runs or waits for review (On Hold, Preview).' }),
  message: z.string(),
  reviewedBy: z.string().meta({ description: 'Who approved or rejected the sync; empty until decided.' }),
  reviewedAt: z.string().meta({ description: 'When the sync was approved or rejected (ISO instant); empty until decided.' }),
  reviewReason: z.string().meta({ description: "The reviewer's reason; empty until decided." }),
}

export const SyncRunSchema = z
  .object({
    ...headerShape,
    modes: z.string(),
    total: z.number().int().meta({ description: 'Records, summed over entities and schools.' }),
    errors: z.number().int().meta({ description: 'Skipped + invalid + excluded records.' }),
  })
  .register(apiSchemas, { id: 'SyncRun', description: 'A sync at its latest status.' })
sameShape<z.infer<typeof SyncRunSchema>, SyncRun>(true)

export const SyncListSchema = z
  .object({ syncs: z.array(SyncRunSchema) })
  .register(apiSchemas, { id: 'SyncList', description: 'Syncs, newest start first.' })

const countsByEntity = z.record(z.string(), OutcomeCountsSchema)

export const SyncSummarySchema = z
  .object({
    ...headerShape,
    counts: countsByEntity.meta({ description: 'Per entity type, summed over schools.' }),
    bySchool: z
      .record(z.string(), z.object({ schoolName: z.string(), counts: countsByEntity }))
      .optional()
      .meta({ description: `Per school id (district level under \`${DISTRICT_KEY}\`), per entity type. Only with bySchool=true.` }),
  })
  .register(apiSchemas, { id: 'SyncSummary' })
sameShape<z.infer<typeof SyncSummarySchema>, SyncSummary>(true)

export const LogRecordSchema = z
  .object({
    tenant: z.string(),
    syncId: z.string(),
    seq: z.number().int().meta({ description: 'Position of the row in its sync.' }),
    date: z.string().meta({ description: 'ISO instant.' }),
    // A newer synclog may write actions and outcomes this one does not know: they are kept and shown as they are.
    action: z.union([z.enum(LOG_ACTION_VALUES), z.string().meta({ description: 'An action of a newer synclog.' })]),
    studentNumber: z.string(),
    studentName: z.string(),
    courseNumber: z.string(),
    courseName: z.string(),
    sectionNumber: z.string(),
    field: z.string(),
    oldValue: z.string(),
    newValue: z.string(),
    servingDistrictId: z.string(),
    servingDistrict: z.string(),
    servingSchoolId: z.string(),
    servingSchool: z.string(),
    homeDistrictId: z.string(),
    homeDistrict: z.string(),
    homeSchoolId: z.string(),
    homeSchool: z.string(),
    app: z.string(),
    entity: z.enum([...ENTITY_TYPES, '']),
    sourcedId: z.string(),
    outcome: z.union([z.enum([...OUTCOMES, '']), z.string().meta({ description: 'An outcome of a newer synclog.' })]),
    message: z.string(),
    recordSchoolId: z.string().meta({ description: "The school the row's record is counted under ('' = district level)." }),
    cause: z.string().meta({
      description: "The record whose error or absence caused the row (`class 'CHEM-02' deleted`); empty when the row stands on its own.",
    }),
    state: z.enum(ROW_STATES).optional().meta({
      description:
        "Applied; Proposed while the row's sync awaits review (On Hold or Preview: not applied); Rejected once its sync was rejected.",
    }),
  })
  .register(apiSchemas, { id: 'LogRecord', description: 'One row of the sync log; blank columns do not apply to the action.' })
sameShape<z.infer<typeof LogRecordSchema>, LogRecord>(true)

const pageShape = {
  rows: z.array(LogRecordSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null = no more rows.' }),
}

export const LogPageSchema = z.object(pageShape).register(apiSchemas, { id: 'LogPage', description: 'A page of log rows, newest first.' })
sameShape<z.infer<typeof LogPageSchema>, LogPage>(true)

export const DrillDownSchema = z
  .object({
    ...pageShape,
    cell: z.object({
      syncId: z.string(),
      entity: z.enum(ENTITY_TYPES),
      schoolId: z.string().optional().meta({ description: "'' = district level; absent = every school in the token's scope." }),
      outcomes: z.array(z.enum(OUTCOMES)).readonly().optional().meta({ description: 'Absent = every outcome (the Total).' }),
    }),
    count: z.number().int().meta({ description: 'The count the summary shows for this cell (0 if none).' }),
    note: z.string().meta({ description: 'Why some counted records have no rows (No Change is counted, not logged), or empty.' }),
  })
  .register(apiSchemas, { id: 'DrillDown', description: 'The log rows behind one count of a summary.' })
sameShape<z.infer<typeof DrillDownSchema>, DrillDown>(true)

export const DailyRollupSchema = z
  .object({
    tenant: z.string(),
    app: z.string(),
    day: z.string().meta({ description: 'YYYY-MM-DD (UTC), the day the syncs started.' }),
    syncs: z.number().int(),
    counts: OutcomeCountsSchema,
  })
  .register(apiSchemas, { id: 'DailyRollup' })
sameShape<z.infer<typeof DailyRollupSchema>, DailyRollup>(true)

export const RollupListSchema = z
  .object({ rollups: z.array(DailyRollupSchema) })
  .register(apiSchemas, { id: 'RollupList', description: 'One row per tenant, app and day.' })

export const MeSchema = z
  .object({
    name: z.string(),
    scope: ScopeSchema,
    role: z.enum(TOKEN_ROLES).meta({
      description:
        'viewer reads; reviewer also approves and rejects syncs On Hold; importer also imports; operator does all, and runs SQL with the every-tenant scope.',
    }),
    permissions: z
      .array(z.enum(PERMISSIONS))
      .meta({ description: 'What the token may do beyond reading: review (approve and reject syncs On Hold), import, sql.' }),
    createdAt: z.string().meta({ description: 'ISO instant.' }),
    timeZones: z
      .object({
        default: z.string().meta({ description: 'The IANA time zone of every tenant not listed in tenants.' }),
        tenants: z
          .record(z.string(), z.string())
          .meta({ description: 'The tenants the token may see whose zone is another, with their zone.' }),
      })
      .meta({
        description:
          "The time zone each tenant's times are shown in (the page shows `YYYY-MM-DD HH:mm` in it; `contains.date` matches that text). Answers carry ISO instants in UTC.",
      }),
  })
  .register(apiSchemas, { id: 'Me', description: 'The token the request carries.' })

export const SchoolListSchema = z
  .object({
    schools: z.array(
      z.object({
        tenant: z.string(),
        schoolId: z.string(),
        schoolName: z.string().meta({ description: 'As the latest sync names it.' }),
      }),
    ),
  })
  .register(apiSchemas, { id: 'SchoolList', description: 'The schools the token may see, by tenant then name (from the sync counts).' })
sameShape<z.infer<typeof SchoolListSchema>['schools'][number], SchoolEntry>(true)

export const LogCountSchema = z
  .object({
    rows: z.number().int().meta({ description: 'Matching log rows.' }),
    records: z.number().int().meta({ description: 'Distinct records (tenant × entity × sourcedId) among them.' }),
  })
  .register(apiSchemas, { id: 'LogCount', description: 'How many rows of the log match.' })

/** `POST /api/v1/session`: a browser signs in with a token, which comes back as an HttpOnly cookie. */
export const SessionBody = z.strictObject({
  token: z.string().min(1, { error: 'must not be blank' }).meta({ description: 'An API token (slk_…).' }),
})

export const HealthSchema = z.object({ status: z.literal('ok') }).register(apiSchemas, { id: 'Health' })

export const ERROR_CODES_HTTP = [
  'BAD_PARAMETER',
  'UNKNOWN_PARAMETER',
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'SYNC_NOT_FOUND',
  'NOT_ON_HOLD',
  'UNAVAILABLE',
  'INTERNAL',
  'REQUEST_TIMEOUT',
  'TOO_LARGE',
] as const
export type HttpErrorCode = (typeof ERROR_CODES_HTTP)[number]

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES_HTTP),
      message: z.string().meta({ description: 'What is wrong and, for a parameter, which one.' }),
    }),
  })
  .register(apiSchemas, { id: 'Error' })

/** The OpenAPI document itself: any JSON object. */
export const OpenApiSchema = z.looseObject({ openapi: z.string() }).register(apiSchemas, { id: 'OpenApiDocument' })
