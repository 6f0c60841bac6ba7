/**
 * What one client may hold of the server: how long it may take to send a request
 * (headers, then the whole request with its body), how long a connection may sit
 * silent, how many connections may be open, and how large a body each route reads.
 * The timeouts bound *receiving* a request; a response being sent (a 100,000-row
 * download) is never cut by them.
 */
import { readFileSync } from 'node:fs'
import type { Config } from '../config/config.js'
import type { TrustProxy } from '../config/trust-proxy.js'

export interface HttpLimits {
  /** From the connection (or the previous response) to the end of the request's headers. */
  readonly headersTimeoutMs: number
  /** From the start of a request to the end of its body. */
  readonly requestTimeoutMs: number
  /** A connection silent for this long while a request is awaited or received is closed. */
  readonly idleTimeoutMs: number
  /** An idle keep-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number
  /** Connections open at once; more are closed as they arrive. */
  readonly maxConnections: number
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 512,
}

/** The body limit of a route that declares none: JSON bodies are small. */
export const DEFAULT_BODY_LIMIT = 16 * 1024
/** `POST /api/v1/session` carries one token (about 50 bytes). */
export const SIGN_IN_BODY_LIMIT = 1024

/** Open files kept for everything but connections: chDB's parts, the log, the token file. */
const RESERVED_FILES = 256
const MIN_CONNECTIONS = 16
const MAX_DEFAULT_CONNECTIONS = 1024

/** The process's open-file limit (soft), or undefined where /proc does not say. */
export function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return match === null || match[1] === 'unlimited' ? undefined : Number(match[1])
  } catch {
    return undefined
  }
}

/** The default connection limit: half of what the open-file limit leaves after the reserve, at most 1024. */
export function defaultMaxConnections(fileLimit: number | undefined): number {
  if (fileLimit === undefined) return DEFAULT_HTTP_LIMITS.maxConnections
  return Math.max(MIN_CONNECTIONS, Math.min(MAX_DEFAULT_CONNECTIONS, Math.floor((fileLimit - RESERVED_FILES) / 2)))
}

/**
 * The most connections the open-file limit allows (each is a file descriptor), or
 * undefined when it cannot be known.
 */
export function maxConnectionsAllowed(fileLimit: number | undefined): number | undefined {
  return fileLimit === undefined ? undefined : Math.max(MIN_CONNECTIONS, fileLimit - RESERVED_FILES)
}

/** How often Node looks for requests past their timeout: often enough that none outlives it by more than a quarter. */
export function checkIntervalMs(limits: HttpLimits): number {
  return Math.max(50, Math.min(30_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)))
}

export interface HttpSettings {
  readonly limits: HttpLimits
  readonly trustProxy: TrustProxy
}

/** The server's settings from the configuration; the connection limit defaults to one sized from `fileLimit`. */
export function httpSettingsOf(config: Config, fileLimit: number | undefined): HttpSettings {
  const h = config.http
  return {
    limits: {
      // The whole request includes its headers: a shorter request timeout shortens the headers' too.
      headersTimeoutMs: Math.round(Math.min(h.headersTimeoutSeconds, h.requestTimeoutSeconds) * 1000),
      requestTimeoutMs: Math.round(h.requestTimeoutSeconds * 1000),
      idleTimeoutMs: Math.round(h.idleTimeoutSeconds * 1000),
      keepAliveTimeoutMs: Math.round(h.keepAliveTimeoutSeconds * 1000),
      maxConnections: h.maxConnections ?? defaultMaxConnections(fileLimit),
    },
    trustProxy: h.trustProxy,
  }
}
