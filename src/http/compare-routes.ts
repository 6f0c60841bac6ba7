/**
 * Comparing two syncs over HTTP: `GET /api/v1/syncs/{syncId}/compare/{otherSyncId}`, the
 * counts of both side by side and the records whose outcome differs
 * (src/clickhouse/sync-compare.ts). Both syncs must be visible to the token: one outside
 * its scope is a 404, as an unknown one is.
 */
import { z } from 'zod'
import { ENTITY_TYPES } from '../events/change-event.js'
import { oneOf, repeatable } from '../clickhouse/log-filter.js'
import { DEFAULT_COMPARE_LIMIT, MAX_COMPARE_LIMIT, NOT_LOGGED_NOTE, type SyncComparison } from '../clickhouse/sync-compare.js'
import { syncNotFound } from './http-errors.js'
import type { ReadStore } from './read-store.js'
import { defineRoute, type RouteDef } from './route-def.js'
import { OutcomeCountsSchema, SyncRunSchema, apiSchemas, sameShape } from './schemas.js'

const syncIdParam = (description: string) => z.string().min(1, { error: 'must not be blank' }).meta({ description })

const CompareParams = z.strictObject({
  syncId: syncIdParam('Sync A, as `GET /api/v1/syncs` lists it (usually the earlier).'),
  otherSyncId: syncIdParam('Sync B, of the same tenant.'),
})

const limitError = `must be a whole number from 1 to ${MAX_COMPARE_LIMIT}`

const CompareQuery = z.strictObject({
  entity: repeatable(oneOf(ENTITY_TYPES, 'A data type.'))
    .meta({ description: 'Only these data types (repeat for several); omit for all.' })
    .optional(),
  limit: z.coerce
    .number({ error: limitError })
    .int({ error: limitError })
    .min(1, { error: limitError })
    .max(MAX_COMPARE_LIMIT, { error: limitError })
    .default(DEFAULT_COMPARE_LIMIT)
    .meta({ description: 'List at most this many differing records; `differing` counts them all.' }),
})

/** What a comparison shows of each sync: its header without the message. */
const SyncBriefSchema = SyncRunSchema.pick({ syncId: true, tenant: true, app: true, status: true, startedAt: true, endedAt: true })

const outcomeOf = (side: string) =>
  z
    .string()
    .nullable()
    .meta({
      description: `The record's outcome in sync ${side} (several joined with ", ", e.g. "New, Merged" for a duplicate); null = ${NOT_LOGGED_NOTE}.`,
    })

export const SyncComparisonSchema = z
  .object({
    a: SyncBriefSchema,
    b: SyncBriefSchema,
    counts: z
      .array(z.object({ entity: z.string(), a: OutcomeCountsSchema, b: OutcomeCountsSchema, difference: OutcomeCountsSchema }))
      .meta({
        description:
          "Per data type with counts in either sync, in OneRoster's order: counts in A, in B, and B minus A, summed over the schools the token may see.",
      }),
    differing: z.number().int().meta({ description: 'How many records have a different outcome (the list stops at limit).' }),
    records: z
      .array(
        z.object({
          entity: z.string(),
          sourcedId: z.string(),
          studentNumber: z.string(),
          studentName: z.string(),
          courseNumber: z.string(),
          sectionNumber: z.string(),
          outcomeA: outcomeOf('A'),
          outcomeB: outcomeOf('B'),
          messageA: z.string().meta({ description: "The messages of the record's rows in sync A, joined with '; '." }),
          messageB: z.string(),
        }),
      )
      .meta({
        description:
          'The records whose outcome differs, by data type then sourcedId. Not logged and No Change count as the same outcome; records without a sourcedId are only counted.',
      }),
  })
  .register(apiSchemas, { id: 'SyncComparison', description: 'Two syncs of one tenant side by side.' })
sameShape<z.infer<typeof SyncComparisonSchema>, SyncComparison>(true)

export function compareRoutes(prefix: string, store: ReadStore): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      url: `${prefix}/syncs/:syncId/compare/:otherSyncId`,
      operationId: 'compareSyncs',
      tag: 'syncs',
      auth: true,
      readsStore: true,
      notFound: true,
      summary: 'Two syncs of one tenant side by side: counts per data type, and the records whose outcome differs',
      description:
        "A school-scoped token compares the counts of its school's records and the rows it may see. Syncs of two tenants are refused (400).",
      params: CompareParams,
      query: CompareQuery,
      response: { json: { schema: SyncComparisonSchema, description: 'The comparison.' } },
      handler: async ({ scope, params, query }) => {
        const { syncId, otherSyncId } = params
        const cmp = await store.compareSyncs(scope, syncId, otherSyncId, {
          limit: query.limit,
          ...(query.entity === undefined ? {} : { entities: [...new Set(query.entity)] }),
        })
        if (cmp === null) throw syncNotFound((await store.getSync(scope, syncId)) === null ? syncId : otherSyncId)
        return cmp
      },
    }),
  ]
}
