/**
 * Errors as the HTTP API answers them: `{ error: { code, message } }` with a 4xx
 * or 5xx status. Synclog's own errors are mapped once, here; anything unexpected
 * is a 500 whose message says only where to look (the server log), never a stack.
 */
import { isSynclogError } from '../errors.js'
import type { HttpErrorCode } from './schemas.js'

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
    this.name = 'HttpProblem'
  }

  body(): { error: { code: HttpErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } }
  }
}

/** How a failure is logged: client mistakes at debug, outages at warn, bugs at error. */
type ProblemLogLevel = 'debug' | 'warn' | 'error'

/** A value as a message quotes it: JSON-quoted, cut to 60 characters. */
export function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)
}

export function syncNotFound(syncId: string): HttpProblem {
  return new HttpProblem(404, 'SYNC_NOT_FOUND', `no sync ${quoted(syncId)} visible to this token; list them with GET /api/v1/syncs`)
}

/** A body over the route's limit: refused as soon as its Content-Length (or its bytes so far) says so. */
export function bodyTooLarge(limit: number, method: string, url: string): HttpProblem {
  return new HttpProblem(
    413,
    'TOO_LARGE',
    `the request body is larger than ${limit} bytes, the most ${method} ${quoted(url.split('?')[0] ?? '')} accepts`,
    { connection: 'close' },
  )
}

const RETRY_AFTER_SECONDS = '5'

/** The answer to a failed request, and how loudly to log it. */
export function problemOf(err: unknown, requestId: string): { problem: HttpProblem; level: ProblemLogLevel } {
  if (err instanceof HttpProblem) return { problem: err, level: 'debug' }
  if (isSynclogError(err)) {
    switch (err.code) {
      case 'USAGE':
        return { problem: new HttpProblem(400, 'BAD_PARAMETER', err.message), level: 'debug' }
      case 'SYNC_NOT_FOUND':
        return { problem: new HttpProblem(404, 'SYNC_NOT_FOUND', err.message), level: 'debug' }
      case 'DATA_DIR_LOCKED':
      case 'STORE_UNAVAILABLE':
        return {
          problem: new HttpProblem(503, 'UNAVAILABLE', `the sync-log store is unavailable; try again shortly (request ${requestId})`, {
            'retry-after': RETRY_AFTER_SECONDS,
          }),
          level: 'warn',
        }
      default:
        break
    }
  }
  const status = statusOf(err)
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's own refusals (a malformed URL, a body on a GET): their messages name no internals.
    return { problem: new HttpProblem(status, 'BAD_REQUEST', (err as Error).message), level: 'debug' }
  }
  return {
    problem: new HttpProblem(500, 'INTERNAL', `internal error; the server log has the details (request ${requestId})`),
    level: 'error',
  }
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const status: unknown = Reflect.get(err, 'statusCode')
  return typeof status === 'number' ? status : undefined
}
