/**
 * An in-memory schema registry for unit tests of AvroSerde: ids from 1 in order of
 * first registration, identical schema text → same id, lookups counted.
 */
import type { Type as AvroType } from 'avsc'
import { avroTypeFor } from '../../src/events/avro.js'
import type { RegistryClient } from '../../src/kafka/registry-client.js'
import { DecodeError, frame } from '../../src/kafka/wire-format.js'

export class MemoryRegistry implements RegistryClient {
  readonly url = 'memory://registry'
  private readonly schemas: string[] = []
  /** Parsed once per id, as a real client caches them. */
  private readonly types = new Map<number, AvroType>()
  readonly subjects = new Map<string, number[]>()
  lookups = 0

  async register(subject: string, schema: object): Promise<number> {
    const text = JSON.stringify(schema)
    let index = this.schemas.indexOf(text)
    if (index < 0) index = this.schemas.push(text) - 1
    const id = index + 1
    const versions = this.subjects.get(subject) ?? []
    if (!versions.includes(id)) versions.push(id)
    this.subjects.set(subject, versions)
    return id
  }

  async encode(id: number, value: unknown): Promise<Buffer> {
    let type = this.types.get(id)
    if (type === undefined) {
      const text = this.schemas[id - 1]
      if (text === undefined) throw new Error(`no schema ${id}`)
      this.types.set(id, (type = avroTypeFor(JSON.parse(text) as object)))
    }
    return frame(id, type.toBuffer(value))
  }

  async schemaById(id: number): Promise<{ schema: string; schemaType: string }> {
    this.lookups++
    const text = this.schemas[id - 1]
    if (text === undefined) throw new DecodeError('schema-unknown', `schema id ${id} is unknown to ${this.url}`, { schemaId: id })
    return { schema: text, schemaType: 'AVRO' }
  }
}

/** A registry that must not be asked anything. */
export const NO_REGISTRY: RegistryClient = {
  url: 'none://',
  register: () => Promise.reject(new Error('the registry was asked to register')),
  encode: () => Promise.reject(new Error('the registry was asked to encode')),
  schemaById: () => Promise.reject(new Error('the registry was asked for a schema')),
}
