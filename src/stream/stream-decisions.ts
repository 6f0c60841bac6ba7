/**
 * Decisions on syncs that came through the stream. Such a sync is held in the processor's
 * state, not in the data directory's, so approving or rejecting it means what a SIS would
 * do: publish a SyncApproved or SyncRejected change event for the tenant. The processor
 * folds it like any other event (exactly once), the projector writes the new status, and
 * the decision waits, a bounded while, until the store shows it.
 *
 * `synclog serve --stream` uses this for a sync its own state does not know, so the page,
 * the API and `synclog approve|reject` decide imported and streamed syncs alike.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Scope, SyncRun } from '../clickhouse/types.js'
import type { ChangeEvent } from '../events/change-event.js'
import { AWAITING_REVIEW } from '../events/sync-log-event.js'
import { decisionEvent, type DecisionOutcome, type DecisionRequest } from '../pipeline/sync-decisions.js'

export interface StreamDecisionDeps {
  /** The sync as the store has it, within the caller's scope; null when unknown or outside it. */
  readonly getSync: (scope: Scope, syncId: string) => Promise<SyncRun | null>
  /** Publishes change events to the change-events topic, keyed by tenant. */
  readonly publish: (events: readonly ChangeEvent[]) => Promise<void>
  /** How long to wait for the store to show the decision (default 30 s). */
  readonly waitMs?: number
  /** How often to look (default 200 ms). */
  readonly pollMs?: number
}

export function streamDecisions(deps: StreamDecisionDeps): (req: DecisionRequest) => Promise<DecisionOutcome> {
  const waitMs = deps.waitMs ?? 30_000
  const pollMs = deps.pollMs ?? 200
  return async (req) => {
    const run = await deps.getSync(req.scope, req.syncId)
    if (run === null) return { kind: 'not-found' }
    if (!AWAITING_REVIEW.includes(run.status)) return { kind: 'not-on-hold', status: run.status }
    await deps.publish([decisionEvent(req, run.tenant, run.app)])
    for (const until = Date.now() + waitMs; Date.now() < until;) {
      await sleep(pollMs)
      const now = await deps.getSync(req.scope, req.syncId)
      if (now !== null && now.status !== run.status) return { kind: 'decided', tenant: run.tenant, status: now.status }
    }
    return { kind: 'sent', tenant: run.tenant }
  }
}
