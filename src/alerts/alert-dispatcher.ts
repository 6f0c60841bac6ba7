/**
 * The alert dispatcher: told of every sync status change once the store has it
 * (SyncLogStore.onStatusStored: the one place every mode writes through, embedded
 * imports, the service and the stream's projector alike), it delivers a webhook to each
 * URL the sync's tenant configured for that status, in the background: the write that
 * stored the status never waits for a receiver. Each attempt is recorded in the delivery
 * log; a delivery is retried with exponential backoff and jitter until it is delivered,
 * answered with a final refusal, or out of attempts.
 *
 * At least once: a status written twice (a batch projected again) is delivered again
 * under the same delivery id, which receivers dedupe on. A process that stops waits a
 * bounded time for deliveries under way, records the unfinished ones as to be retried,
 * and the next process that opens the store for writing resumes them.
 */
import { setTimeout as sleepFor } from 'node:timers/promises'
import type { Logger } from '../logging/logger.js'
import type { SyncStatusChanged } from '../events/sync-log-event.js'
import type { SyncSummary } from '../clickhouse/types.js'
import { backoffMs } from '../stream/backoff.js'
import type { AlertDelivery, SignedWebhook } from './alert-config.js'
import type { AlertDeliveryLog, DeliveryOutcome } from './delivery-log.js'
import { postWebhook } from './post-webhook.js'
import { deliveryHeaders, deliveryIdOf, shownUrl, syncLink, type SyncStatusAlert } from './webhook-message.js'

export interface AlertDispatcherDeps {
  /** Per tenant, its webhooks. */
  readonly webhooks: ReadonlyMap<string, readonly SignedWebhook[]>
  readonly delivery: AlertDelivery
  /** The page's base URL; absent: no link until `linkTo` gives one. */
  readonly publicUrl?: string
  readonly log: AlertDeliveryLog
  /** The sync's counts (null when the store does not know it). */
  readonly summary: (tenant: string, syncId: string) => Promise<SyncSummary | null>
  /** The sync's message as it may leave the server (no server paths). */
  readonly publicText: (message: string) => string
  readonly logger: Logger
}

/** One delivery: the body is built once, so every attempt sends the same bytes. */
interface Delivery {
  readonly deliveryId: string
  readonly tenant: string
  readonly syncId: string
  readonly version: number
  readonly status: string
  readonly webhook: SignedWebhook
  readonly body: string
}

/** How long ago a delivery left to retry is still resumed by a process that starts. */
const RESUME_WITHIN_MS = 24 * 3600_000

/** Statuses remembered per sync, for `previousStatus`. */
const REMEMBERED_SYNCS = 10_000

export class AlertDispatcher {
  private readonly running = new Set<Promise<void>>()
  private readonly stop = new AbortController()
  private readonly lastStatus = new Map<string, string>()
  private readonly logger: Logger
  private publicUrl: string | undefined

  constructor(private readonly deps: AlertDispatcherDeps) {
    this.logger = deps.logger.child({ component: 'alerts' })
    this.publicUrl = deps.publicUrl
  }

  /** The page's address, for links, when the configuration gives none (`synclog serve` once it listens). */
  linkTo(baseUrl: string): void {
    this.publicUrl ??= baseUrl.replace(/\/+$/, '')
  }

  /** Status changes the store now has: each configured delivery starts in the background. Never throws. */
  statusStored(changes: readonly SyncStatusChanged[]): void {
    for (const change of [...changes].sort((a, b) => a.version - b.version)) {
      const key = `${change.tenant}\u0000${change.syncId}`
      const previousStatus = this.lastStatus.get(key)
      this.remember(key, change.status)
      if (this.stop.signal.aborted) continue
      const hooks = (this.deps.webhooks.get(change.tenant) ?? []).filter((w) => (w.statuses as readonly string[]).includes(change.status))
      if (hooks.length === 0) continue
      this.track(this.deliverAll(change, previousStatus === change.status ? undefined : previousStatus, hooks))
    }
  }

  /** Resumes, in the background, the deliveries a process that stopped left to retry (whose webhook is still configured). */
  resumeUnfinished(now: number = Date.now()): void {
    if (this.deps.webhooks.size === 0) return
    this.track(
      (async () => {
        const unfinished = await this.deps.log.unfinished(now - RESUME_WITHIN_MS)
        for (const u of unfinished) {
          const webhook = (this.deps.webhooks.get(u.tenant) ?? []).find(
            (w) => deliveryIdOf(u.tenant, u.syncId, u.version, w.url) === u.deliveryId,
          )
          if (webhook === undefined || u.attempts >= this.deps.delivery.attempts) continue
          this.logger.info({ tenant: u.tenant, syncId: u.syncId, url: u.url, attempt: u.attempts + 1 }, 'resuming an alert delivery')
          this.track(this.attempts({ ...u, webhook }, u.attempts + 1))
        }
      })(),
    )
  }

  /**
   * Waits up to `exitWaitSeconds` for the deliveries under way, then cuts the rest short
   * (each recorded as to be retried, which the next process resumes). Call before the store closes.
   */
  async close(): Promise<void> {
    if (this.running.size > 0) {
      const waitMs = this.deps.delivery.exitWaitSeconds * 1000
      const timer = sleepFor(waitMs, undefined, { ref: false }).catch(() => undefined)
      await Promise.race([this.idle(), timer])
    }
    this.stop.abort()
    await this.idle()
  }

  /** Resolves once no delivery runs (deliveries started meanwhile included). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running])
  }

  private remember(key: string, status: string): void {
    this.lastStatus.delete(key)
    this.lastStatus.set(key, status)
    if (this.lastStatus.size > REMEMBERED_SYNCS) this.lastStatus.delete(this.lastStatus.keys().next().value!)
  }

  private track(work: Promise<void>): void {
    const running = work.catch((e: unknown) => this.logger.warn({ err: e }, 'an alert delivery failed unexpectedly'))
    this.running.add(running)
    void running.finally(() => this.running.delete(running))
  }

  private async deliverAll(change: SyncStatusChanged, previousStatus: string | undefined, hooks: readonly SignedWebhook[]): Promise<void> {
    const summary = await this.deps.summary(change.tenant, change.syncId)
    const counts = summary?.counts ?? {}
    const errors = Object.values(counts).reduce((sum, c) => sum + c.skipped + c.invalid + c.excluded, 0)
    await Promise.all(
      hooks.map((webhook) => {
        const deliveryId = deliveryIdOf(change.tenant, change.syncId, change.version, webhook.url)
        const alert: SyncStatusAlert = {
          event: 'sync.status',
          deliveryId,
          tenant: change.tenant,
          syncId: change.syncId,
          app: change.app,
          status: change.status,
          ...(previousStatus === undefined ? {} : { previousStatus }),
          startedAt: change.startedAt,
          endedAt: change.endedAt === '' ? null : change.endedAt,
          message: this.deps.publicText(change.message),
          counts,
          errors,
          ...(this.publicUrl === undefined ? {} : { link: syncLink(this.publicUrl, change.syncId) }),
        }
        const delivery: Delivery = { ...change, deliveryId, webhook, body: JSON.stringify(alert) }
        return this.attempts(delivery, 1)
      }),
    )
  }

  /** Attempts from `first` on, each recorded, until delivered, refused, out of attempts or stopped. */
  private async attempts(d: Delivery, first: number): Promise<void> {
    const { attempts, timeoutSeconds, firstRetrySeconds, maxRetrySeconds } = this.deps.delivery
    const url = shownUrl(d.webhook.url)
    for (let attempt = first; attempt <= attempts; attempt++) {
      const timestamp = String(Math.floor(Date.now() / 1000))
      const headers = deliveryHeaders(d.deliveryId, d.webhook.secret, timestamp, d.body)
      const result = await postWebhook(d.webhook.url, headers, d.body, timeoutSeconds * 1000, this.stop.signal)
      const outcome: DeliveryOutcome =
        result.kind === 'delivered' ? 'delivered' : result.kind === 'final' || attempt === attempts ? 'failed' : 'retrying'
      const error =
        result.kind === 'stopped' ? 'the process stopped before the receiver answered; the next synclog process retries it' : result.error
      await this.record(d, url, attempt, outcome, result.httpStatus, error, result.durationMs)
      const line = { tenant: d.tenant, syncId: d.syncId, status: d.status, url, attempt, httpStatus: result.httpStatus }
      if (outcome === 'delivered') this.logger.info(line, 'alert delivered')
      else if (outcome === 'failed') this.logger.warn({ ...line, error }, 'alert delivery failed; no more attempts')
      else this.logger.info({ ...line, error }, 'alert delivery will be retried')
      if (outcome !== 'retrying' || result.kind === 'stopped') return
      try {
        await sleepFor(backoffMs(attempt - 1, firstRetrySeconds * 1000, maxRetrySeconds * 1000), undefined, { signal: this.stop.signal })
      } catch {
        return // stopping: the row just written says it is to be retried
      }
    }
  }

  private async record(
    d: Delivery,
    url: string,
    attempt: number,
    outcome: DeliveryOutcome,
    httpStatus: number | null,
    error: string,
    durationMs: number,
  ): Promise<void> {
    try {
      await this.deps.log.record({
        deliveryId: d.deliveryId,
        tenant: d.tenant,
        syncId: d.syncId,
        version: d.version,
        status: d.status,
        url,
        attempt,
        at: new Date().toISOString(),
        outcome,
        httpStatus,
        error,
        durationMs,
        body: d.body,
      })
    } catch (e) {
      this.logger.warn({ err: e, tenant: d.tenant, syncId: d.syncId, url, attempt }, 'could not record an alert delivery attempt')
    }
  }
}
