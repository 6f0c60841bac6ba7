/**
 * `GET /api/v1/alerts/deliveries`: the alert delivery log (src/alerts), one row per
 * attempt, newest first, limited to the token's tenant. A school's token gets 403: a
 * delivery describes the whole district's sync and where the district's alerts go.
 */
import { z } from 'zod'
import { DELIVERY_OUTCOMES, type DeliveryAttempt, type DeliveryFilter } from '../alerts/delivery-log.js'
import type { Scope } from '../clickhouse/types.js'
import { nonBlank } from '../clickhouse/log-filter.js'
import { HttpProblem } from './http-errors.js'
import { defineRoute, type RouteDef } from './route-def.js'
import { apiSchemas, limitParam, sameShape } from './schemas.js'

/** What the route reads: the delivery log. */
export interface AlertDeliveryReader {
  list(scope: Scope, filter: DeliveryFilter): Promise<DeliveryAttempt[]>
}

const DeliveryQuery = z.strictObject({
  tenant: nonBlank('Deliveries of this tenant.').optional(),
  sync: nonBlank('Deliveries about this sync.').optional(),
  limit: limitParam('At most this many attempts, newest first.'),
})

const DeliveryAttemptSchema = z
  .object({
    deliveryId: z.string().meta({ description: 'The same for every attempt of one delivery (the X-Synclog-Delivery header).' }),
    tenant: z.string(),
    syncId: z.string(),
    version: z.number().int().meta({ description: "The version of the sync's status the delivery is about." }),
    status: z.string().meta({ description: 'The status the delivery announced.' }),
    url: z.string().meta({ description: "The receiver's URL without user, password, query or fragment." }),
    attempt: z.number().int().meta({ description: '1 for the first attempt.' }),
    at: z.string().meta({ description: 'When the attempt ended (ISO instant).' }),
    outcome: z.enum(DELIVERY_OUTCOMES).meta({ description: 'delivered; retrying (another attempt follows); failed (no more attempts).' }),
    httpStatus: z.number().int().nullable().meta({ description: "The receiver's answer; null when it did not answer." }),
    error: z.string().meta({ description: 'Why the attempt did not deliver; empty when it did.' }),
    durationMs: z.number().int(),
  })
  .register(apiSchemas, { id: 'AlertDeliveryAttempt', description: 'One attempt to deliver an alert webhook.' })
sameShape<z.infer<typeof DeliveryAttemptSchema>, DeliveryAttempt>(true)

const DeliveryListSchema = z
  .object({ deliveries: z.array(DeliveryAttemptSchema) })
  .register(apiSchemas, { id: 'AlertDeliveryList', description: 'Alert delivery attempts, newest first.' })

/** The route; none without a delivery log (a server that sends no alerts still has one: the store's). */
export function alertRoutes(prefix: string, deliveries: AlertDeliveryReader | undefined): RouteDef[] {
  if (deliveries === undefined) return []
  return [
    defineRoute({
      method: 'GET',
      url: `${prefix}/alerts/deliveries`,
      operationId: 'listAlertDeliveries',
      tag: 'alerts',
      auth: true,
      readsStore: true,
      summary: 'The alert delivery log: one row per attempt to deliver a webhook, newest first',
      description:
        "For a token of every tenant or of one tenant (any role); a school's token gets 403. Alerts are configured per tenant (docs/alerts.md).",
      query: DeliveryQuery,
      problems: [[403, "The token is limited to one school: the delivery log is the district's."]],
      response: { json: { schema: DeliveryListSchema, description: 'The attempts.' } },
      handler: async ({ query, scope, caller }) => {
        if (scope.school !== undefined)
          throw new HttpProblem(
            403,
            'FORBIDDEN',
            `token '${caller!.name}' is limited to one school; the alert delivery log needs a district token`,
          )
        const filter: DeliveryFilter = { limit: query.limit, tenant: query.tenant, syncId: query.sync }
        return { deliveries: await deliveries.list(scope, filter) }
      },
    }),
  ]
}
