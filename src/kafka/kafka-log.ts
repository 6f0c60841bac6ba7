/**
 * kafkajs' own logger bridged to the pino root, so every log line has one shape.
 *
 * Levels are mapped, not copied: kafkajs logs rebalances ("The coordinator is not
 * aware of this member, re-joining the group") and every attempt it is about to
 * retry (entries that carry `retryCount` / `retryTime`: "Failed to connect to broker,
 * reconnecting", "Restarting the consumer in 300ms") at ERROR. Those are normal
 * operation or transient; the final failure reaches the caller as an error and is
 * logged there. So is a broken connection (namespace `Connection`), which kafkajs logs at
 * ERROR on every attempt before its broker pool retries. kafkajs DEBUG (every request and
 * response) goes to pino `trace`.
 */
import kafkajs from 'kafkajs'
import type { LogEntry, logCreator as LogCreator, logLevel as KafkaLogLevel } from 'kafkajs'
import type { Logger } from '../logging/logger.js'

const { logLevel } = kafkajs

type PinoMethod = 'error' | 'warn' | 'info' | 'debug' | 'trace'

/** Group membership churn that kafkajs reports at ERROR although it handles it. */
const REBALANCE = /rebalanc|re-?join/i
/**
 * Warned on every idempotent producer with a bounded retry budget, which synclog chooses
 * on purpose (see PRODUCER_RETRY in kafka-client.ts).
 */
const BOUNDED_RETRIES = 'Limiting retries for the idempotent producer'

export function pinoLevelOf(entry: LogEntry): PinoMethod {
  switch (entry.level) {
    case logLevel.ERROR: {
      if (REBALANCE.test(String(entry.log.message))) return 'info'
      if ('retryCount' in entry.log || 'retryTime' in entry.log || entry.namespace === 'Connection') return 'warn'
      return 'error'
    }
    case logLevel.WARN:
      return String(entry.log.message).startsWith(BOUNDED_RETRIES) ? 'debug' : 'warn'
    case logLevel.INFO:
      return 'info'
    case logLevel.DEBUG:
      return 'trace'
    default:
      return 'info'
  }
}

/** The kafkajs level to ask for, so that kafkajs does not build entries pino would drop. */
export function kafkaLogLevelFor(logger: Logger): KafkaLogLevel {
  if (!logger.isLevelEnabled('error')) return logLevel.NOTHING
  // Rebalances arrive at kafkajs ERROR and are shown at info: ERROR is always requested.
  if (logger.isLevelEnabled('trace')) return logLevel.DEBUG
  if (logger.isLevelEnabled('info')) return logLevel.INFO
  if (logger.isLevelEnabled('warn')) return logLevel.WARN
  return logLevel.ERROR
}

export function pinoLogCreator(logger: Logger): LogCreator {
  const root = logger.child({ component: 'kafkajs' })
  return () => (entry: LogEntry) => {
    const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry.log
    const method = pinoLevelOf(entry)
    root[method]({ ns: entry.namespace || undefined, ...fields }, String(message))
  }
}
