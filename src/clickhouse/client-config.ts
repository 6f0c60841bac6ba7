/**
 * What every ClickHouse client of synclog is created with, whatever the
 * backend: common settings, the log bridge to pino, and an idempotent close.
 */
import {
  ClickHouseLogLevel,
  type ClickHouseClient,
  type ClickHouseSettings,
  type ErrorLogParams,
  type LogParams,
  type Logger as ClientLogger,
  type WarnLogParams,
} from '@clickhouse/client'
import type { Logger } from '../logging/logger.js'

/**
 * Settings sent with every query, valid on chDB (which turns them into `SET`
 * statements) and on a server: 64-bit integers as JSON numbers on both.
 */
export const CLICKHOUSE_SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 0,
}

export function closeOnce(client: ClickHouseClient): () => Promise<void> {
  let closing: Promise<void> | undefined
  return () => (closing ??= client.close())
}

export interface ClientLogConfig {
  LoggerClass: new () => ClientLogger
  level: ClickHouseLogLevel
}

/** Routes @clickhouse/client's own log lines into synclog's pino logger instead of the console. */
export function clientLog(logger: Logger): ClientLogConfig {
  const log = logger.child({ component: 'clickhouse-client' })
  class PinoClientLogger implements ClientLogger {
    trace({ module, message, args }: LogParams): void {
      log.trace({ module, args }, message)
    }
    debug({ module, message, args }: LogParams): void {
      log.debug({ module, args }, message)
    }
    info({ module, message, args }: LogParams): void {
      log.info({ module, args }, message)
    }
    warn({ module, message, args, err }: WarnLogParams): void {
      log.warn({ module, args, err }, message)
    }
    error({ module, message, args, err }: ErrorLogParams): void {
      log.error({ module, args, err }, message)
    }
  }
  return { LoggerClass: PinoClientLogger, level: ClickHouseLogLevel.WARN }
}
