/**
 * The few Confluent schema-registry REST calls synclog makes itself (with Node's fetch),
 * where @kafkajs/confluent-schema-registry either has no call (setting a subject's
 * compatibility) or cannot tell "unknown id" from "registry unreachable" (mappersmith turns
 * a refused connection into an HTTP 400). Works against Confluent and Apicurio's
 * `/apis/ccompat/v7`.
 *
 * Errors: unreachable, timeouts, 408/429/5xx → retriable SynclogError (REGISTRY_UNAVAILABLE)
 * ; other refusals → REGISTRY_FAILED.
 */
import { SynclogError } from '../errors.js'
import { DecodeError } from './wire-format.js'

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
/** How long any one call to the registry may take before it is given up on (retriable). */
export const REGISTRY_TIMEOUT_MS = 10_000

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number]

interface HttpResult {
  readonly status: number
  readonly body: unknown
}

function messageOf(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : ''
    return `${e.message}${cause}`
  }
  return String(e)
}

/** The registry could not be asked (or is overloaded): retriable. */
export function registryUnavailable(url: string, doing: string, detail: string, cause?: unknown): SynclogError {
  return new SynclogError('REGISTRY_UNAVAILABLE', `schema registry ${url} unavailable: ${doing} failed: ${detail}`, { cause })
}

/** The registry said no, or answered what cannot be used: not retriable. */
export function registryFailed(url: string, doing: string, detail: string, cause?: unknown): SynclogError {
  return new SynclogError('REGISTRY_FAILED', `schema registry ${url}: ${doing} failed: ${detail}`, { cause })
}

function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

function errorDetail(r: HttpResult): string {
  const b = r.body
  if (typeof b === 'object' && b !== null && 'message' in b && typeof b.message === 'string') {
    const code = 'error_code' in b && typeof b.error_code === 'number' ? ` (error ${b.error_code})` : ''
    return `HTTP ${r.status}${code}: ${b.message}`
  }
  return `HTTP ${r.status}${typeof b === 'string' && b !== '' ? `: ${b.slice(0, 200)}` : ''}`
}

export class RegistryHttp {
  private readonly base: string

  constructor(
    url: string,
    private readonly timeoutMs = REGISTRY_TIMEOUT_MS,
  ) {
    this.base = url.replace(/\/+$/, '')
  }

  get url(): string {
    return this.base
  }

  /** `accept`: statuses besides 2xx and 404 answered as results instead of errors. */
  private async call(
    method: 'GET' | 'PUT',
    path: string,
    doing: string,
    body?: unknown,
    accept: readonly number[] = [],
  ): Promise<HttpResult> {
    let response: Response
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: { Accept: CONTENT_TYPE, ...(body === undefined ? {} : { 'Content-Type': CONTENT_TYPE }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (e) {
      throw registryUnavailable(this.base, doing, messageOf(e), e)
    }
    let text: string
    try {
      text = await response.text()
    } catch (e) {
      throw registryUnavailable(this.base, doing, `reading the response: ${messageOf(e)}`, e)
    }
    let parsed: unknown = text
    try {
      parsed = text === '' ? null : JSON.parse(text)
    } catch {
      // not JSON: keep the text for the message
    }
    const result = { status: response.status, body: parsed }
    if (response.ok || response.status === 404 || accept.includes(response.status)) return result
    if (isRetriableStatus(response.status)) throw registryUnavailable(this.base, doing, errorDetail(result))
    throw registryFailed(this.base, doing, errorDetail(result))
  }

  /**
   * Sets the subject's compatibility level. Returns false when the subject does not
   * exist yet (Apicurio keeps rules per artifact, so a new subject gets its level right
   * after its first version is registered).
   *
   * Safe when several processes start at once: Apicurio creates the rule on the first PUT
   * and updates it on later ones, so two first PUTs at the same moment leave one of them
   * with HTTP 409 "A rule named 'COMPATIBILITY' already exists". The rule is there then:
   * the level is read back, and set again (now an update) when it is not `level`.
   */
  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<boolean> {
    const doing = `setting compatibility ${level} on subject ${subject}`
    const path = `/config/${encodeURIComponent(subject)}`
    for (let attempt = 1; ; attempt++) {
      const r = await this.call('PUT', path, doing, { compatibility: level }, [409])
      if (r.status !== 409) return r.status !== 404
      const now = await this.compatibility(subject)
      if (now === level) return true
      if (attempt >= 3)
        throw registryFailed(this.base, doing, `${errorDetail(r)}; the subject's level is ${now ?? 'unknown'} after ${attempt} attempts`)
    }
  }

  /** The subject's compatibility level as the registry reports it; null when the subject is unknown. */
  async compatibility(subject: string): Promise<string | null> {
    const doing = `reading the compatibility of subject ${subject}`
    const r = await this.call('GET', `/config/${encodeURIComponent(subject)}`, doing)
    if (r.status === 404) return null
    const b = r.body
    if (typeof b === 'object' && b !== null) {
      // Confluent: compatibilityLevel; older Apicurio: compatibility.
      const level = 'compatibilityLevel' in b ? b.compatibilityLevel : 'compatibility' in b ? b.compatibility : undefined
      if (typeof level === 'string') return level.toUpperCase()
    }
    throw registryFailed(this.base, doing, `unexpected answer ${JSON.stringify(b)}`)
  }

  /** The schema text registered under `id`; DecodeError `schema-unknown` when there is none. */
  async schemaById(id: number): Promise<{ schema: string; schemaType: string }> {
    const doing = `looking up schema id ${id}`
    const r = await this.call('GET', `/schemas/ids/${id}`, doing)
    if (r.status === 404) {
      throw new DecodeError('schema-unknown', `schema id ${id} is unknown to the registry at ${this.base} (${errorDetail(r)})`, {
        schemaId: id,
      })
    }
    const b = r.body
    if (typeof b === 'object' && b !== null && 'schema' in b && typeof b.schema === 'string') {
      const schemaType = 'schemaType' in b && typeof b.schemaType === 'string' ? b.schemaType : 'AVRO'
      return { schema: b.schema, schemaType }
    }
    throw registryFailed(this.base, doing, `unexpected answer ${JSON.stringify(b).slice(0, 200)}`)
  }
}
