/**
 * kafkajs errors mapped once to SynclogError, at the Kafka boundary.
 *
 * kafkajs retries retriable errors itself and then wraps them: a retriable error it gave
 * up on arrives as `KafkaJSNumberOfRetriesExceeded` (retriable: false) whose cause is the
 * retriable one (a refused connection, a leader election...); a non-retriable one arrives
 * as `KafkaJSNonRetriableError` around the broker's error. The mapping looks through those
 * wrappers and takes `retriable` from the innermost kafkajs error: "the broker was
 * unreachable for the whole retry budget" stays retriable for synclog (back off, restart),
 * "topic authorization failed" does not. The original error is kept as `cause`.
 *
 * Codes: KAFKA_UNAVAILABLE (retriable: back off and try again) and KAFKA_FAILED (not
 * retriable), both declared in src/errors.ts.
 */
import kafkajs from 'kafkajs'
import { SynclogError, type ErrorCode } from '../errors.js'

// kafkajs is CommonJS and spreads its error classes into module.exports, which Node's
// ESM loader cannot see as named exports: take them from the default export.
const { KafkaJSError, KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError, KafkaJSAggregateError } = kafkajs

type KafkaJSErrorInstance = InstanceType<typeof KafkaJSError>

const UNAVAILABLE: ErrorCode = 'KAFKA_UNAVAILABLE'
const FAILED: ErrorCode = 'KAFKA_FAILED'

/** Looks through kafkajs' retry wrappers to the error that caused them. */
function innermost(e: KafkaJSErrorInstance): KafkaJSErrorInstance {
  let current = e
  for (let depth = 0; depth < 10; depth++) {
    const wrapper = current instanceof KafkaJSNumberOfRetriesExceeded || current instanceof KafkaJSNonRetriableError
    const cause: unknown = current.cause
    if (!wrapper || !(cause instanceof KafkaJSError)) break
    current = cause
  }
  return current
}

/** The broker's error type (e.g. `INVALID_PRODUCER_EPOCH`, `TOPIC_AUTHORIZATION_FAILED`) behind a kafkajs error, if any. */
export function kafkaErrorType(e: unknown): string | null {
  let current: unknown = e
  for (let depth = 0; depth < 10 && current instanceof Error; depth++) {
    if (current instanceof KafkaJSProtocolError) return current.type
    if (current instanceof KafkaJSAggregateError) {
      const first = current.errors.find((x): x is InstanceType<typeof KafkaJSProtocolError> => x instanceof KafkaJSProtocolError)
      return first?.type ?? null
    }
    current = current.cause
  }
  return null
}

function describe(e: KafkaJSErrorInstance): string {
  const type = e instanceof KafkaJSProtocolError ? ` [${e.type}]` : ''
  return `${e.message}${type}`
}

/**
 * Maps any error thrown by a kafkajs call; `doing` says what was being done
 * ("creating topics", "sending 500 events to synclog.change-events"). A SynclogError passes through.
 */
export function kafkaError(e: unknown, doing: string): SynclogError {
  if (e instanceof SynclogError) return e
  if (e instanceof KafkaJSAggregateError) {
    const inner = e.errors.filter((x): x is KafkaJSErrorInstance => x instanceof KafkaJSError).map(innermost)
    const retriable = inner.length === e.errors.length && inner.every((x) => x.retriable)
    const details = e.errors.map((x) => (x instanceof KafkaJSError ? describe(innermost(x)) : String(x))).join('; ')
    return new SynclogError(retriable ? UNAVAILABLE : FAILED, `Kafka: ${doing} failed: ${e.message}: ${details}`, { cause: e })
  }
  if (e instanceof KafkaJSError) {
    const root = innermost(e)
    const gaveUp = e instanceof KafkaJSNumberOfRetriesExceeded ? ` (gave up after ${e.retryCount} retries)` : ''
    return new SynclogError(root.retriable ? UNAVAILABLE : FAILED, `Kafka: ${doing} failed${gaveUp}: ${describe(root)}`, { cause: e })
  }
  const message = e instanceof Error ? e.message : String(e)
  return new SynclogError(FAILED, `Kafka: ${doing} failed: ${message}`, { cause: e })
}

/** Runs a kafkajs call and maps what it throws. */
export async function kafkaCall<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (e) {
    throw kafkaError(e, doing)
  }
}
