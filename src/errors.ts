/**
 * The one error type of synclog. Foreign errors (chDB, ClickHouse, file system,
 * Kafka) are mapped to it once, at the adapter boundary.
 */
export const ERROR_CODES = {
  USAGE: { retriable: false },
  CONFIG_INVALID: { retriable: false },
  INPUT_UNREADABLE: { retriable: false },
  MANIFEST_INVALID: { retriable: false },
  DATA_DIR_LOCKED: { retriable: true },
  STORE_UNAVAILABLE: { retriable: true },
  STORE_FAILED: { retriable: false },
  STATE_CORRUPT: { retriable: false },
  SYNC_NOT_FOUND: { retriable: false },
  SYNC_NOT_ON_HOLD: { retriable: false },
  EVENT_REJECTED: { retriable: false },
  KAFKA_UNAVAILABLE: { retriable: true },
  KAFKA_FAILED: { retriable: false },
  REGISTRY_UNAVAILABLE: { retriable: true },
  REGISTRY_FAILED: { retriable: false },
  DECODE_FAILED: { retriable: false },
  SCHEMA_UNKNOWN: { retriable: false },
  EXPORT_FAILED: { retriable: true },
  /** Input over one of the limits of src/config/limits.ts (a zip bomb, a header of 55,000 columns...). */
  INPUT_LIMIT_EXCEEDED: { retriable: false },
  /** A --data or --out path that cannot be used: a special file, a symlink loop, a pseudo-filesystem. */
  PATH_UNUSABLE: { retriable: false },
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export class SynclogError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SynclogError'
    this.code = code
    this.retriable = ERROR_CODES[code].retriable
  }
}

export function isSynclogError(e: unknown, code?: ErrorCode): e is SynclogError {
  return e instanceof SynclogError && (code === undefined || e.code === code)
}
