/**
 * One attempt to deliver a webhook: a POST with a time limit, and what its answer
 * means. 2xx delivers; a timeout, a network error, 408, 429 and 5xx are worth another
 * attempt; any other answer (a 3xx: redirects are not followed; a 4xx) is final.
 */
import { STATUS_CODES } from 'node:http'

export interface AttemptResult {
  readonly kind: 'delivered' | 'retriable' | 'final' | 'stopped'
  /** The receiver's status; null when it did not answer. */
  readonly httpStatus: number | null
  /** Why it did not deliver, for the delivery log; blank when it did. */
  readonly error: string
  readonly durationMs: number
}

const RETRIABLE_STATUSES = new Set([408, 429])

function answerKind(status: number): AttemptResult['kind'] {
  if (status >= 200 && status < 300) return 'delivered'
  return status >= 500 || RETRIABLE_STATUSES.has(status) ? 'retriable' : 'final'
}

function answerError(status: number): string {
  if (status >= 200 && status < 300) return ''
  const text = `the receiver answered ${status} ${STATUS_CODES[status] ?? ''}`.trim()
  if (status >= 300 && status < 400) return `${text}; redirects are not followed: configure the final URL`
  return text
}

/** The code of a socket error under fetch's "fetch failed" (ECONNREFUSED, ENOTFOUND...). */
function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause
  if (typeof cause?.code === 'string') return `no answer: ${cause.code}`
  return `no answer: ${typeof cause?.message === 'string' ? cause.message : (e as Error).message}`
}

/**
 * POSTs `body` once; never throws. `stop` cuts the attempt short (the process is stopping):
 * the result is `stopped`.
 */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  stop: AbortSignal,
): Promise<AttemptResult> {
  const started = performance.now()
  const timeout = AbortSignal.timeout(timeoutMs)
  const elapsed = (): number => performance.now() - started
  try {
    const response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.any([timeout, stop]) })
    // The answer's body is not needed, and reading it is bounded by the same time limit.
    await response.arrayBuffer().catch(() => undefined)
    return { kind: answerKind(response.status), httpStatus: response.status, error: answerError(response.status), durationMs: elapsed() }
  } catch (e) {
    if (stop.aborted) return { kind: 'stopped', httpStatus: null, error: 'the process stopped during the attempt', durationMs: elapsed() }
    const error = timeout.aborted ? `no answer within ${timeoutMs / 1000} s` : networkReason(e)
    return { kind: 'retriable', httpStatus: null, error, durationMs: elapsed() }
  }
}
