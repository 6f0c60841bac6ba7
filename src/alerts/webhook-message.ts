/**
 * What one webhook delivery sends: the JSON body about a sync's new status, its
 * delivery id, and the headers that let a receiver check it came from synclog
 * (an HMAC-SHA256 over the timestamp and the body, with the webhook's secret).
 * docs/alerts.md shows a receiver verifying it.
 */
import { createHash, createHmac } from 'node:crypto'
import type { OutcomeCountsJson } from '../clickhouse/types.js'

export interface SyncStatusAlert {
  readonly event: 'sync.status'
  /** The same for every attempt of one delivery: a receiver dedupes on it. */
  readonly deliveryId: string
  readonly tenant: string
  readonly syncId: string
  readonly app: string
  readonly status: string
  /** The status before, when this process saw it (absent otherwise). */
  readonly previousStatus?: string
  readonly startedAt: string
  /** Null while the sync waits for review (On Hold, Preview). */
  readonly endedAt: string | null
  readonly message: string
  /** Per entity type, the sync's counts summed over schools, as `synclog summary --format json` gives them. */
  readonly counts: Record<string, OutcomeCountsJson>
  /** Skipped + invalid + excluded records over every entity. */
  readonly errors: number
  /** The sync in the web page; absent when the page's address is unknown (docs/alerts.md, publicUrl). */
  readonly link?: string
}

/**
 * The delivery's id: the same for one status change of one sync (its version) sent to
 * one URL, so every retry, and a status written twice, carries the same id.
 */
export function deliveryIdOf(tenant: string, syncId: string, version: number, url: string): string {
  return createHash('sha256')
    .update(JSON.stringify([tenant, syncId, version, url]))
    .digest('hex')
    .slice(0, 32)
}

/** `sha256=<hex>`: the HMAC-SHA256 of `<timestamp>.<body>` with the secret. */
export function signatureOf(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

/** The headers of one attempt; `timestamp` is the attempt's time in whole seconds since 1970. */
export function deliveryHeaders(deliveryId: string, secret: string, timestamp: string, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'synclog-alerts',
    'x-synclog-delivery': deliveryId,
    'x-synclog-timestamp': timestamp,
    'x-synclog-signature': signatureOf(secret, timestamp, body),
  }
}

/** The page's view of one sync, under `publicUrl`. */
export function syncLink(publicUrl: string, syncId: string): string {
  return `${publicUrl}/#/syncs?open=${encodeURIComponent(syncId)}`
}

/** A URL as logs and the delivery log show it: without user, password, query or fragment (they may hold secrets). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return '(not a URL)'
  }
}
