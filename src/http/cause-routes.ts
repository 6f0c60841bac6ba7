/**
 * `GET /api/v1/syncs/{syncId}/causes`: a sync's rows grouped by root cause
 * (src/clickhouse/cause-groups.ts). The rows behind one group are the log's,
 * filtered by `sync` and `cause`.
 */
import { z } from 'zod'
import type { CauseGroups } from '../clickhouse/cause-groups.js'
import { syncNotFound } from './http-errors.js'
import type { ReadStore } from './read-store.js'
import { defineRoute, type RouteDef } from './route-def.js'
import { apiSchemas, sameShape, SyncIdParams } from './schemas.js'

const counts = (description: string) => z.record(z.string(), z.number().int()).meta({ description })

export const CauseGroupsSchema = z
  .object({
    syncId: z.string(),
    tenant: z.string(),
    groups: z.array(
      z.object({
        cause: z.string().meta({
          description:
            "The record at the root, as the log's cause column holds it: `<entity> '<sourcedId>' <what>` (e.g. `class 'CHEM-02' deleted`).",
        }),
        rows: z.number().int(),
        records: z.number().int().meta({ description: 'Distinct records (entity type and sourcedId).' }),
        byEntity: counts('Records per entity type, largest first.'),
        byAction: counts('Rows per action (Deleted Roster, Skipped, Invalidated Section, ...), largest first.'),
      }),
    ),
    uncaused: z
      .object({ rows: z.number().int(), records: z.number().int() })
      .meta({ description: 'Error rows (Skipped, Invalid, Excluded) with no cause: each is its own.' }),
  })
  .register(apiSchemas, {
    id: 'CauseGroups',
    description: "A sync's rows grouped by root cause, largest group first; the error rows with no cause counted apart.",
  })

sameShape<z.infer<typeof CauseGroupsSchema>, CauseGroups>(true)

export function causeRoutes(prefix: string, store: ReadStore): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      url: `${prefix}/syncs/:syncId/causes`,
      operationId: 'getSyncCauses',
      tag: 'syncs',
      auth: true,
      readsStore: true,
      notFound: true,
      summary: "A sync's rows grouped by root cause: \"class 'CHEM-02' deleted: 35 enrollments\"",
      description:
        "Rows whose error or cascade was caused by another record's error or absence, grouped by that record, with rows and records per entity type and action; " +
        "every row of the sync in the token's scope counts, whatever its state. The rows of one group: `GET /api/v1/log?sync=<syncId>&cause=<cause>&includeProposed=true&includeRejected=true`.",
      params: SyncIdParams,
      response: { json: { schema: CauseGroupsSchema, description: 'The groups, largest first, and the uncaused error rows.' } },
      handler: async ({ scope, params }) => {
        const groups = await store.causeGroups(scope, params.syncId)
        if (groups === null) throw syncNotFound(params.syncId)
        return groups
      },
    }),
  ]
}
