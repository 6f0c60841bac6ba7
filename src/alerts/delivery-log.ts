/**
 * The alert delivery log: one row per attempt to deliver a webhook (table
 * `alert_deliveries`, migration 3 in src/clickhouse/ddl.ts). Written on the store's
 * write lane, read on its read lane. The table collapses a row written twice (the
 * same delivery and attempt), so an attempt recorded again is one row.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import type { Lanes } from '../clickhouse/lanes.js'
import type { Scope } from '../clickhouse/types.js'
import { toStoreError } from '../clickhouse/store-errors.js'
import { isoFromTable } from '../clickhouse/rows.js'
import { toClickHouseText } from '../clickhouse/time.js'
import { whereClause } from '../clickhouse/filter-parts.js'

export const DELIVERY_OUTCOMES = ['delivered', 'retrying', 'failed'] as const
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number]

/** One attempt, as recorded and read back. */
export interface DeliveryAttempt {
  readonly deliveryId: string
  readonly tenant: string
  readonly syncId: string
  /** The version of the sync's status the delivery is about. */
  readonly version: number
  readonly status: string
  /** The receiver's URL without user, password, query or fragment. */
  readonly url: string
  /** 1 for the first attempt. */
  readonly attempt: number
  /** When the attempt ended (ISO instant). */
  readonly at: string
  readonly outcome: DeliveryOutcome
  /** The receiver's answer; null when there was none (timeout, network error). */
  readonly httpStatus: number | null
  /** Why the attempt did not deliver; blank when it did. */
  readonly error: string
  readonly durationMs: number
}

/** An attempt with the body it sent, as written (the body lets another process resume a delivery). */
export interface RecordedAttempt extends DeliveryAttempt {
  readonly body: string
}

export interface DeliveryFilter {
  readonly tenant?: string
  readonly syncId?: string
  /** At most this many rows, newest first (default 100). */
  readonly limit?: number
}

/** A delivery whose last attempt asked for another, what it sent, and how many attempts it had. */
export type UnfinishedDelivery = Pick<RecordedAttempt, 'deliveryId' | 'tenant' | 'syncId' | 'version' | 'status' | 'url' | 'body'> & {
  readonly attempts: number
}

const MAX_ROWS = 10_000

interface TableRow {
  deliveryId: string
  tenant: string
  syncId: string
  version: number | string
  status: string
  url: string
  attempt: number | string
  at: string
  outcome: string
  httpStatus: number | string
  error: string
  durationMs: number | string
}

function fromTable(r: TableRow): DeliveryAttempt {
  const httpStatus = Number(r.httpStatus)
  return {
    deliveryId: r.deliveryId,
    tenant: r.tenant,
    syncId: r.syncId,
    version: Number(r.version),
    status: r.status,
    url: r.url,
    attempt: Number(r.attempt),
    at: isoFromTable(r.at),
    outcome: (DELIVERY_OUTCOMES as readonly string[]).includes(r.outcome) ? (r.outcome as DeliveryOutcome) : 'failed',
    httpStatus: httpStatus === 0 ? null : httpStatus,
    error: r.error,
    durationMs: Number(r.durationMs),
  }
}

export class AlertDeliveryLog {
  constructor(private readonly lanes: Lanes) {}

  async record(attempt: RecordedAttempt): Promise<void> {
    const row = {
      ...attempt,
      at: toClickHouseText(Date.parse(attempt.at)),
      httpStatus: attempt.httpStatus ?? 0,
      durationMs: Math.max(0, Math.round(attempt.durationMs)),
    }
    try {
      await this.lanes.lane('write').insert({ table: 'alert_deliveries', values: [row], format: 'JSONEachRow' })
    } catch (e) {
      throw toStoreError(e, 'record an alert delivery')
    }
  }

  /** Attempts in the scope's tenants matching the filter, newest first. */
  async list(scope: Scope, filter: DeliveryFilter): Promise<DeliveryAttempt[]> {
    const params: Record<string, unknown> = { limit: Math.min(filter.limit ?? 100, MAX_ROWS) }
    const where: string[] = []
    if (scope.tenant !== undefined) {
      params['scope_tenant'] = scope.tenant
      where.push('tenant = {scope_tenant:String}')
    }
    if (filter.tenant !== undefined) {
      params['tenant'] = filter.tenant
      where.push('tenant = {tenant:String}')
    }
    if (filter.syncId !== undefined) {
      params['syncId'] = filter.syncId
      where.push('syncId = {syncId:String}')
    }
    const query = `SELECT deliveryId, tenant, syncId, version, status, url, attempt, toString(at) AS at, outcome, httpStatus, error, durationMs
FROM alert_deliveries FINAL ${whereClause(where)}
ORDER BY at DESC, deliveryId, attempt DESC
LIMIT {limit:UInt32}`
    return (await this.select<TableRow>(query, params, 'read the alert deliveries')).map(fromTable)
  }

  /** Deliveries whose latest attempt, made since `sinceMs`, was to be retried: what a process that stopped left to do. */
  async unfinished(sinceMs: number): Promise<UnfinishedDelivery[]> {
    const query = `SELECT deliveryId, tenant, syncId, version, status, url, attempts, body FROM (
  SELECT deliveryId, any(tenant) AS tenant, any(syncId) AS syncId, any(version) AS version, any(status) AS status, any(url) AS url,
    max(attempt) AS attempts, argMax(outcome, attempt) AS last, argMax(body, attempt) AS body, max(at) AS latest
  FROM alert_deliveries FINAL
  GROUP BY deliveryId
) WHERE last = 'retrying' AND latest >= toDateTime64({since:String}, 3, 'UTC')`
    const rows = await this.select<UnfinishedDelivery & { version: number | string; attempts: number | string }>(
      query,
      { since: toClickHouseText(sinceMs) },
      'read the alert deliveries left to retry',
    )
    return rows.map((r) => ({ ...r, version: Number(r.version), attempts: Number(r.attempts) }))
  }

  private async select<T>(query: string, params: Record<string, unknown>, what: string): Promise<T[]> {
    const client: ClickHouseClient = this.lanes.lane('read')
    try {
      const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' })
      return await rs.json<T>()
    } catch (e) {
      throw toStoreError(e, what)
    }
  }
}
