/**
 * The schema registry as AvroSerde needs it: register a subject's schema, encode with a
 * registered id, look up a writer schema by id. `ConfluentRegistryClient` implements it on
 * @kafkajs/confluent-schema-registry (register, encode and its Confluent framing) plus three
 * REST calls of our own (registry-http.ts says why); tests can pass an in-memory one.
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { TimeoutMiddleware } from 'mappersmith/middleware/timeout'
import { SynclogError } from '../errors.js'
import { REGISTRY_TIMEOUT_MS, RegistryHttp, registryFailed, registryUnavailable } from './registry-http.js'

export interface RegistryClient {
  /** Where the registry is (for messages). */
  readonly url: string
  /**
   * Registers `schema` (the JSON of an Avro schema) under `subject` with BACKWARD
   * compatibility and returns its id. Registering the same schema again returns the same id.
   */
  register(subject: string, schema: object): Promise<number>
  /** `value` as Avro with the schema registered under `id`, in the Confluent wire format. */
  encode(id: number, value: unknown): Promise<Buffer>
  /** The schema text registered under `id` (DecodeError `schema-unknown` when none). */
  schemaById(id: number): Promise<{ schema: string; schemaType: string }>
}

/**
 * The same explicit retry for every SchemaRegistry instance: the library merges a
 * retry setting into a module-level default (docs/library-notes.md#schema-registry-client), so all instances must agree.
 */
const REGISTRY_RETRY = { retries: 3, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 5, factor: 0.2, multiplier: 2 }

/**
 * A middleware as the library's (CommonJS) typings of mappersmith declare it; the timeout
 * middleware imported here is typed from mappersmith's ESM build, the same function.
 */
type LibraryMiddleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number]

/**
 * The library's error classes are not exported from its public entry; each sets `name` to
 * its class name, so errors are told apart by that name (and `paths` for validation).
 */
type LibraryError = 'ConfluentSchemaRegistryCompatibilityError' | 'ConfluentSchemaRegistryValidationError'

function isLibraryError(e: unknown, name?: LibraryError): e is Error {
  return e instanceof Error && (name === undefined ? e.name.startsWith('ConfluentSchemaRegistry') : e.name === name)
}

/** The paths of the fields a value failed validation at (ConfluentSchemaRegistryValidationError). */
function invalidPaths(e: Error): string {
  const paths = 'paths' in e && Array.isArray(e.paths) ? e.paths : []
  return paths.map((p) => (Array.isArray(p) ? p.join('.') : String(p))).join(', ')
}

/** The HTTP status carried by the library's (unexported) ResponseError. */
function statusOf(e: unknown): number | null {
  if (typeof e === 'object' && e !== null && 'status' in e && typeof e.status === 'number') return e.status
  return null
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

export class ConfluentRegistryClient implements RegistryClient {
  private readonly registry: SchemaRegistry
  private readonly http: RegistryHttp

  /** `timeoutMs`: how long one call may go unanswered (a registry that took it and hangs) before it fails, retriable. */
  constructor(url: string, timeoutMs = REGISTRY_TIMEOUT_MS) {
    this.http = new RegistryHttp(url, timeoutMs)
    // wrapUnions 'auto' is what src/events/avro.ts builds its types with (and avsc's default).
    // The library sets no timeout of its own: without one, a request the registry accepted and
    // never answered would hold a starting processor forever.
    this.registry = new SchemaRegistry(
      {
        host: this.http.url,
        clientId: 'synclog',
        retry: { ...REGISTRY_RETRY },
        middlewares: [TimeoutMiddleware(timeoutMs) as unknown as LibraryMiddleware],
      },
      { [SchemaType.AVRO]: { wrapUnions: 'auto' } },
    )
  }

  get url(): string {
    return this.http.url
  }

  /** The compatibility level the registry reports for `subject` (null: unknown subject). */
  compatibility(subject: string): Promise<string | null> {
    return this.http.compatibility(subject)
  }

  async register(subject: string, schema: object): Promise<number> {
    const doing = `registering a schema under subject ${subject}`
    // Several processes starting at once against a new subject (`synclog publish` beside
    // `synclog run all`) each find it new: the library registers the first version and then
    // sets the rule, and a process that looks between the two meets the registry's default
    // level. Those races answer 409 or a level mismatch once; by then the subject and its
    // rule exist, so another attempt (the same schema gives the same id) settles it. A
    // schema that is really incompatible is refused again and reported.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.registerOnce(subject, schema)
      } catch (e) {
        const race = statusOf(e) === 409 || isLibraryError(e, 'ConfluentSchemaRegistryCompatibilityError')
        if (!race || attempt >= 3) throw this.mapError(e, doing)
      }
    }
  }

  private async registerOnce(subject: string, schema: object): Promise<number> {
    // The library's register() compares GET /config/{subject} with the level it is given and
    // throws on a mismatch; Apicurio answers that GET with its global default for a subject
    // without its own rule. Setting the rule first makes the comparison hold on every start.
    // A subject that does not exist yet answers 404 here and the library sets the rule
    // itself after the first version is registered.
    await this.http.setCompatibility(subject, 'BACKWARD')
    const { id } = await this.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    )
    return id
  }

  async encode(id: number, value: unknown): Promise<Buffer> {
    try {
      return await this.registry.encode(id, value)
    } catch (e) {
      if (isLibraryError(e, 'ConfluentSchemaRegistryValidationError')) {
        const paths = invalidPaths(e)
        throw new SynclogError('EVENT_REJECTED', `value does not fit schema id ${id}${paths ? ` at ${paths}` : ''}: ${e.message}`, {
          cause: e,
        })
      }
      throw this.mapError(e, `encoding with schema id ${id}`)
    }
  }

  schemaById(id: number): Promise<{ schema: string; schemaType: string }> {
    return this.http.schemaById(id)
  }

  private mapError(e: unknown, doing: string): SynclogError {
    if (e instanceof SynclogError) return e
    if (isLibraryError(e, 'ConfluentSchemaRegistryCompatibilityError')) {
      return registryFailed(this.url, doing, `${e.message}; set it with PUT ${this.url}/config/<subject> {"compatibility":"BACKWARD"}`, e)
    }
    if (isLibraryError(e)) return registryFailed(this.url, doing, e.message, e)
    const status = statusOf(e)
    if (status === 409)
      return registryFailed(
        this.url,
        doing,
        `the schema is not BACKWARD-compatible with the subject's latest version (HTTP 409): ${messageOf(e)}`,
        e,
      )
    if (status === 422) return registryFailed(this.url, doing, `the registry finds the schema invalid (HTTP 422): ${messageOf(e)}`, e)
    // mappersmith reports a failed connection as status 400; the registry itself answers 400
    // to none of the calls made here.
    if (status === 400 || status === 408 || status === 429 || (status !== null && status >= 500)) {
      return registryUnavailable(this.url, doing, messageOf(e), e)
    }
    return registryFailed(this.url, doing, messageOf(e), e)
  }
}
