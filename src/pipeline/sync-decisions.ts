/**
 * A reviewer's decision on a sync On Hold or in Preview: approve applies its changes, reject
 * discards them (the state stays as before it). A preview is applied only if no other sync
 * was applied to its tenant since it was computed. One place for `synclog approve|reject` and for
 * `POST /api/v1/syncs/{syncId}/approve|reject`: both find the sync in the state, check
 * that the caller's scope reaches it and that it is On Hold, then fold a SyncApproved or
 * SyncRejected event. The caller runs it inside its pipeline (in a service: the write
 * queue), so the check and the write are one step no other write can come between.
 */
import type { Scope } from '../clickhouse/types.js'
import type { SyncApproved, SyncRejected } from '../events/change-event.js'
import { AWAITING_REVIEW, type SyncStatus } from '../events/sync-log-event.js'
import { findSync, stalePreview } from '../processor/index.js'
import type { EmbeddedPipeline } from './embedded-pipeline.js'

export type Decision = 'approve' | 'reject'

export interface DecisionRequest {
  readonly syncId: string
  readonly decision: Decision
  /** Who decides, recorded with the sync (and in its message: "approved by <by>"). */
  readonly by: string
  /** Why: required, recorded with the sync. */
  readonly reason: string
  /** The scope of the caller: a sync of another tenant is as unknown as one that does not exist. */
  readonly scope: Scope
  /** When (an ISO instant): the event's time. */
  readonly at: string
}

export type DecisionOutcome =
  /** `status`: the sync's new status; absent when the fold left it unchanged (the event was refused: the server log says why). */
  | { readonly kind: 'decided'; readonly tenant: string; readonly status?: SyncStatus }
  /** Sent to the stream (src/stream/stream-decisions.ts), and not yet folded and projected when the wait ended. */
  | { readonly kind: 'sent'; readonly tenant: string }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'not-on-hold'; readonly status: SyncStatus }
  /** A preview another applied sync has overtaken: `why` says so; the preview stays as it is, to be discarded. */
  | { readonly kind: 'stale-preview'; readonly why: string }

/** The change event that carries a decision on a sync of `tenant`. */
export function decisionEvent(req: DecisionRequest, tenant: string, app: string): SyncApproved | SyncRejected {
  return {
    type: req.decision === 'approve' ? 'SyncApproved' : 'SyncRejected',
    eventId: `${req.syncId}:${req.decision}`,
    tenant,
    syncId: req.syncId,
    app,
    occurredAt: req.at,
    by: req.by,
    reason: req.reason,
  }
}

/** Decides a held sync with the pipeline; a sync that is unknown, out of scope or not On Hold is left as it is. */
export async function decideSync(pipeline: EmbeddedPipeline, req: DecisionRequest): Promise<DecisionOutcome> {
  const found = findSync(pipeline.state, req.syncId)
  if (found === undefined || (req.scope.tenant !== undefined && found.tenant !== req.scope.tenant)) return { kind: 'not-found' }
  if (!AWAITING_REVIEW.includes(found.info.status)) return { kind: 'not-on-hold', status: found.info.status }
  const tenant = pipeline.state.tenants.get(found.tenant)
  const stale = req.decision === 'approve' && tenant !== undefined ? stalePreview(tenant, found.info) : ''
  if (stale) return { kind: 'stale-preview', why: stale }
  const report = await pipeline.apply([decisionEvent(req, found.tenant, found.info.app)])
  const status = report.syncs.get(req.syncId)
  return status === undefined ? { kind: 'decided', tenant: found.tenant } : { kind: 'decided', tenant: found.tenant, status }
}

/** Runs work with a pipeline: a process's own, or the service's, one write at a time. */
export type WithPipeline = <T>(work: (pipeline: EmbeddedPipeline) => Promise<T>) => Promise<T>

/** What the HTTP API needs to decide syncs: decisions through the service's write queue. */
export interface SyncDecisions {
  decide(req: DecisionRequest): Promise<DecisionOutcome>
}

/**
 * Decisions with the pipeline; a sync the pipeline's state does not know goes to
 * `elsewhere` when given (in `serve --stream`: the stream, whose processor holds it).
 */
export function syncDecisions(withPipeline: WithPipeline, elsewhere?: (req: DecisionRequest) => Promise<DecisionOutcome>): SyncDecisions {
  return {
    async decide(req) {
      const outcome = await withPipeline((pipeline) => decideSync(pipeline, req))
      return outcome.kind === 'not-found' && elsewhere !== undefined ? elsewhere(req) : outcome
    },
  }
}
