/**
 * Releasing a held sync from the API (and the page): `POST /api/v1/syncs/{syncId}/approve`
 * and `/reject`, for tokens whose role allows review. The decision is made by
 * src/pipeline/sync-decisions.ts, as `synclog approve|reject` makes it, through the
 * service's write queue; the sync's message records the token's name ("approved by token
 * <name>"). A sync of another tenant answers 404, as an unknown one does.
 *
 * Cross-site requests: the page posts these from a cookie session. The cookie is
 * SameSite=Strict, so no other site's page sends it; and the body must be JSON
 * (`Content-Type: application/json`), which a form cannot send and a script of another
 * origin can send only after a CORS preflight this server never grants. So a page on
 * another port of the same host (same site, other origin) cannot post either.
 */
import { z } from 'zod'
import type { SyncDecisions, Decision } from '../pipeline/sync-decisions.js'
import { HttpProblem, quoted, syncNotFound } from './http-errors.js'
import type { ReadStore } from './read-store.js'
import { defineRoute, type RouteDef } from './route-def.js'
import { SyncIdParams, SyncRunSchema } from './schemas.js'

/** The decision is the URL's; the body says why. */
const DecisionBody = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(1, { error: 'must say why: a reason is recorded with every decision' })
    .max(2000, { error: 'must be at most 2000 characters' })
    .meta({ description: 'Why the sync is approved or rejected; recorded with the sync and shown in the history.' }),
})

const JSON_TYPE = /^application\/json[ \t]*(;|$)/i

const ACTS: Readonly<Record<Decision, { readonly operationId: string; readonly summary: string; readonly done: string }>> = {
  approve: { operationId: 'approveSync', summary: 'Approve a sync On Hold: its changes are applied', done: 'approved' },
  reject: {
    operationId: 'rejectSync',
    summary: 'Reject a sync On Hold: its changes are discarded, the state stays as before it',
    done: 'rejected',
  },
}

/**
 * The two routes; none without `decisions` (a server that cannot write). `store` is the
 * store as the API reads it (public messages), for the sync's new state.
 */
export function decisionRoutes(prefix: string, decisions: SyncDecisions | undefined, store: ReadStore, now: () => number): RouteDef[] {
  if (decisions === undefined) return []
  return (['approve', 'reject'] as const).map((decision) =>
    defineRoute({
      method: 'POST',
      url: `${prefix}/syncs/:syncId/${decision}`,
      operationId: ACTS[decision].operationId,
      tag: 'syncs',
      auth: true,
      permission: 'review',
      readsStore: true,
      notFound: true,
      summary: ACTS[decision].summary,
      description:
        'For a token whose role allows review (reviewer, operator) and whose scope is every tenant or one tenant. ' +
        'The body is `{"reason": "…"}` (required, not blank), sent as `Content-Type: application/json`. ' +
        "The sync records who decided (the token's name), when and why (`reviewedBy`, `reviewedAt`, `reviewReason`). " +
        'A sync in Preview is applied only if no other sync of its tenant was applied since it was computed (409 otherwise). ' +
        'With `serve --stream`, a sync held by the stream processor is decided by publishing the decision to the stream; the answer waits up to 30 s for its new status.',
      params: SyncIdParams,
      body: DecisionBody,
      problems: [
        [
          409,
          'The sync is not On Hold or in Preview (already decided, or it never was), or a preview another applied sync has overtaken; the message says which.',
        ],
        [415, 'The body is not sent as `Content-Type: application/json`.'],
      ],
      response: { json: { schema: SyncRunSchema, description: `The sync, ${ACTS[decision].done}.` } },
      // Before the body is validated: a body that is not JSON is refused as such, not as a bad field.
      options: {
        preValidation: async (request) => {
          if (!JSON_TYPE.test(request.headers['content-type'] ?? '')) {
            throw new HttpProblem(
              415,
              'BAD_REQUEST',
              `send the body {"reason": "…"} as Content-Type: application/json to ${decision} a sync`,
            )
          }
        },
      },
      handler: async ({ params, body, caller, scope, request }) => {
        const { syncId } = params
        const outcome = await decisions.decide({
          syncId,
          decision,
          by: `token ${caller!.name}`,
          reason: body.reason,
          scope,
          at: new Date(now()).toISOString(),
        })
        if (outcome.kind === 'not-found') throw syncNotFound(syncId)
        if (outcome.kind === 'not-on-hold') {
          throw new HttpProblem(
            409,
            'NOT_ON_HOLD',
            `sync ${quoted(syncId)} is ${outcome.status}, not On Hold or Preview: only a sync awaiting review can be approved or rejected`,
          )
        }
        if (outcome.kind === 'stale-preview')
          throw new HttpProblem(409, 'NOT_ON_HOLD', `sync ${quoted(syncId)} cannot be applied: ${outcome.why}`)
        request.log.info(
          {
            syncId,
            tenant: outcome.tenant,
            token: caller!.name,
            decision,
            status: outcome.kind === 'decided' ? outcome.status : 'sent to the stream',
          },
          `sync ${ACTS[decision].done} through the API`,
        )
        const run = await store.getSync(scope, syncId)
        if (run === null) throw syncNotFound(syncId)
        return run
      },
    }),
  )
}
