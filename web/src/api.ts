/**
 * The page's client of the HTTP API: same origin, signed in by the session
 * cookie (set by POST /api/v1/session), JSON in and out. A 401 anywhere sends
 * the reader back to the sign-in form.
 */
import type { DrillDown, LogPage, SchoolEntry, Scope, SyncRun, SyncSummary } from '../../src/clickhouse/types.js'
import type { TimeZonesJson } from '../../src/export/local-time.js'
import type { RosterAt } from '../../src/clickhouse/roster-at.js'
import type { SyncComparison } from '../../src/clickhouse/sync-compare.js'
import type { CauseGroups } from '../../src/clickhouse/cause-groups.js'

export type {
  DrillDown,
  LogPage,
  LogRecord,
  OutcomeCountsJson,
  SchoolEntry,
  Scope,
  SyncRun,
  SyncSummary,
} from '../../src/clickhouse/types.js'

export const API = '/api/v1'

/** A token's role and what it allows beyond reading, as src/http/api-tokens.ts names them (that module is the server's, with Node imports). */
export type TokenRole = 'viewer' | 'reviewer' | 'importer' | 'operator'
export type Permission = 'review' | 'import' | 'sql'

export interface Me {
  name: string
  scope: Scope
  role: TokenRole
  /** What the role and scope allow: `review` shows the Approve and Reject buttons of a sync On Hold. */
  permissions: Permission[]
  createdAt: string
  /** The time zone of each tenant the token may see: the page shows their times in it. */
  timeZones: TimeZonesJson
}

/** One download of the log, as the server lists them: one per format it writes log files in. */
export interface LogDownload {
  format: string
  /** For people: "Excel", "CSV". */
  label: string
  /** The download; the log's filters go in its query string. */
  url: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

let onUnauthorized: () => void = () => {}

/** What to do when the session ends (the token was revoked, the cookie expired). */
export function whenSignedOut(handler: () => void): void {
  onUnauthorized = handler
}

/** Query parameters from a record; arrays repeat the key, empty values are left out. */
export function queryString(params: Record<string, string | readonly string[] | undefined>): string {
  const sp = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    for (const one of [value ?? []].flat()) if (one !== '') sp.append(key, one)
  }
  const text = sp.toString()
  return text === '' ? '' : `?${text}`
}

async function request<T>(method: string, path: string, opts: { body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json' } }
  if (opts.signal !== undefined) init.signal = opts.signal
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body)
    init.headers = { accept: 'application/json', 'content-type': 'application/json' }
  }
  const res = await fetch(`${API}${path}`, init)
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new ApiError(res.status, 'BAD_RESPONSE', `the server answered ${res.status} without JSON`)
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string } }).error
    const problem = new ApiError(res.status, error?.code ?? 'ERROR', error?.message ?? `the server answered ${res.status}`)
    if (res.status === 401 && path !== '/session') onUnauthorized()
    throw problem
  }
  return body as T
}

export const api = {
  me: () => request<Me>('GET', '/me'),
  signIn: (token: string) => request<Me>('POST', '/session', { body: { token } }),
  signOut: () => request<void>('DELETE', '/session'),
  schools: () => request<{ schools: SchoolEntry[] }>('GET', '/schools'),
  syncs: (q: string, signal?: AbortSignal) => request<{ syncs: SyncRun[] }>('GET', `/syncs${q}`, signal ? { signal } : {}),
  summary: (syncId: string) => request<Required<SyncSummary>>('GET', `/syncs/${encodeURIComponent(syncId)}/summary?bySchool=true`),
  drillDown: (syncId: string, q: string, signal?: AbortSignal) =>
    request<DrillDown>('GET', `/syncs/${encodeURIComponent(syncId)}/drilldown${q}`, signal ? { signal } : {}),
  log: (q: string, signal?: AbortSignal) => request<LogPage>('GET', `/log${q}`, signal ? { signal } : {}),
  count: (q: string, signal?: AbortSignal) => request<{ rows: number; records: number }>('GET', `/log/count${q}`, signal ? { signal } : {}),
  logDownloads: () => request<{ downloads: LogDownload[] }>('GET', '/log/downloads'),
  roster: (q: string, signal?: AbortSignal) => request<RosterAt>('GET', `/roster${q}`, signal ? { signal } : {}),
  /** Two syncs side by side: counts and the records whose outcome differs. */
  compare: (a: string, b: string, q: string, signal?: AbortSignal) =>
    request<SyncComparison>('GET', `/syncs/${encodeURIComponent(a)}/compare/${encodeURIComponent(b)}${q}`, signal ? { signal } : {}),
  /** A sync's rows grouped by root cause, largest group first. */
  causes: (syncId: string) => request<CauseGroups>('GET', `/syncs/${encodeURIComponent(syncId)}/causes`),
  /** Approves or rejects a sync waiting for review, with the reviewer's reason; the answer is the sync at its new status. */
  decide: (syncId: string, decision: 'approve' | 'reject', reason: string) =>
    request<SyncRun>('POST', `/syncs/${encodeURIComponent(syncId)}/${decision}`, { body: { reason } }),
}

/** The URL of a sync's error report (a CSV download the session cookie authorizes). */
export function reportUrl(syncId: string): string {
  return `${API}/syncs/${encodeURIComponent(syncId)}/report.csv`
}

/** True for the error of a request the page itself cancelled (a newer search replaced it). */
export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError'
}
