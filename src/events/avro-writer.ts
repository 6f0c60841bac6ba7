/**
 * Avro binary writers compiled from the schema files, for the values synclog writes most
 * (a sync-log event per record of every sync).
 *
 * avsc remains the reference: it reads every message, resolves other writer schemas, and
 * registers the schemas. Writing is where it spends most: a `Buffer.byteLength` call and a
 * general-purpose tap per string, and a wrapped union object per event. Here each record
 * of a schema gets one function, generated once from the schema file, that writes its
 * fields in order with constant-name reads, and a string is written in one pass while it
 * is ASCII (the length prefix is its character count), falling back to `Buffer#write`
 * otherwise. The bytes are avsc's, byte for byte, with one deliberate difference: a lone
 * UTF-16 surrogate is written as U+FFFD (valid UTF-8), where avsc writes the surrogate's
 * own three bytes in strings of up to 64 bytes (test/unit/avro-writer.unit.spec.ts).
 *
 * A value that does not fit its schema (a number for a string, an unknown enum symbol) is
 * refused with an error naming the field, as avsc refuses it; nothing is half-written
 * into a caller's buffer that it would keep.
 */
import { ownValue } from '../dict.js'
import {
  isSchemaObject,
  namedTypes,
  optionalOf,
  shortName,
  type AvroRecordSchemaJson,
  type SchemaNode,
  type SchemaObject,
} from './schema-shape.js'

/**
 * Writes a value at `pos` of `buf` and returns where it ends; when `buf` is too small,
 * returns `buf.length - end` (negative: how many more bytes the value needs), as avsc's
 * `Type.encode` does, and the caller tries again with more room.
 */
export type WriteInto<T> = (value: T, buf: Buffer, pos: number) => number

type Write = (buf: Buffer, p: number, v: unknown) => number

function invalid(path: string, expected: string, v: unknown): Error {
  const shown = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'undefined' : typeof v === 'object' ? typeof v : String(v)
  return new Error(`${path}: expected ${expected}, got ${shown}`)
}

/** The largest magnitude of a long avsc writes from a JS number. */
const LONG_LIMIT = Number.MAX_SAFE_INTEGER - 1

/** Avro's zigzag varint of a safe integer (int and long alike). */
function writeLong(buf: Buffer, p: number, n: number): number {
  if (n >= -0x40000000 && n < 0x40000000) {
    let m = n >= 0 ? n << 1 : (~n << 1) | 1
    while (m > 0x7f) {
      buf[p++] = (m & 0x7f) | 0x80
      m >>>= 7
    }
    buf[p++] = m
    return p
  }
  let f = n >= 0 ? n * 2 : -n * 2 - 1
  while (f >= 0x80) {
    buf[p++] = (f % 0x80) | 0x80
    f = Math.floor(f / 0x80)
  }
  buf[p++] = f
  return p
}

/** A string's length-prefixed UTF-8; one pass while it is ASCII. */
function writeString(buf: Buffer, p: number, s: string): number {
  const n = s.length
  if (n < 64) {
    // An ASCII string's byte length is its length, and the prefix of a length under 64 is one byte.
    const start = p + 1
    let i = 0
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c > 0x7f) break
      buf[start + i] = c
    }
    if (i === n) {
      buf[p] = n << 1
      return start + n
    }
  }
  const bytes = Buffer.byteLength(s)
  const at = writeLong(buf, p, bytes)
  // Past the end of `buf`, only the length is counted: the caller tries again with more room.
  if (at + bytes <= buf.length) buf.write(s, at, bytes, 'utf8')
  return at + bytes
}

/** The writers of one schema's records, compiled on first use. */
export class SchemaWriter {
  private readonly named: ReadonlyMap<string, SchemaObject>
  private readonly records = new Map<string, Write>()

  constructor(schema: AvroRecordSchemaJson) {
    this.named = namedTypes(schema as unknown as SchemaNode)
  }

  /**
   * A writer for a top-level record whose one field is a union of records (`payload`):
   * `branchOf(value)` names the branch, and the value itself is that branch's record.
   */
  unionOfRecords<T>(union: readonly SchemaNode[], branchOf: (value: T) => string): WriteInto<T> {
    const branches = new Map<string, { index: number; write: Write }>()
    for (const [index, node] of union.entries()) {
      if (!isSchemaObject(node) || node.type !== 'record' || node.name === undefined) continue
      branches.set(shortName(node.name), { index, write: this.record(node) })
    }
    return (value, buf, pos) => {
      const branch = branches.get(branchOf(value))
      if (branch === undefined) throw invalid('payload', `one of ${[...branches.keys()].join(', ')}`, branchOf(value))
      const end = branch.write(buf, writeLong(buf, pos, branch.index), value)
      return end <= buf.length ? end : buf.length - end
    }
  }

  /** A writer for the schema's top-level record. */
  root<T>(schema: AvroRecordSchemaJson): WriteInto<T> {
    const write = this.record(schema as unknown as SchemaObject)
    return (value, buf, pos) => {
      const end = write(buf, pos, value)
      return end <= buf.length ? end : buf.length - end
    }
  }

  private record(o: SchemaObject): Write {
    const name = shortName(o.name ?? '')
    let write = this.records.get(name)
    if (write === undefined) {
      // A record that contains itself is compiled against this stand-in, which calls the compiled writer.
      const self: { write?: Write } = {}
      this.records.set(name, (buf, p, v) => self.write!(buf, p, v))
      write = self.write = this.compileRecord(o)
      this.records.set(name, write)
    }
    return write
  }

  private compile(node: SchemaNode, path: string): Write {
    if (typeof node === 'string') {
      switch (node) {
        case 'null':
          return (_buf, p, v) => {
            if (v !== null) throw invalid(path, 'null', v)
            return p
          }
        case 'string':
          return (buf, p, v) => {
            if (typeof v !== 'string') throw invalid(path, 'a string', v)
            return writeString(buf, p, v)
          }
        case 'int':
          return (buf, p, v) => {
            if (typeof v !== 'number' || v !== (v | 0)) throw invalid(path, 'an int', v)
            return writeLong(buf, p, v)
          }
        case 'long':
          return (buf, p, v) => {
            // avsc's bound for a long held as a number: one inside Number.MAX_SAFE_INTEGER.
            if (typeof v !== 'number' || !Number.isSafeInteger(v) || Math.abs(v) > LONG_LIMIT) throw invalid(path, 'a long', v)
            return writeLong(buf, p, v)
          }
        case 'boolean':
          return (buf, p, v) => {
            if (typeof v !== 'boolean') throw invalid(path, 'true or false', v)
            buf[p] = v ? 1 : 0
            return p + 1
          }
        default: {
          const named = this.named.get(shortName(node))
          if (named === undefined) throw new Error(`schema: unknown type ${node}`)
          return named.type === 'record' ? this.record(named) : this.compile(named, path)
        }
      }
    }
    if (Array.isArray(node)) {
      const inner = optionalOf(node as readonly SchemaNode[])
      if (inner === undefined) return this.compileWrapped(node as readonly SchemaNode[], path)
      // ["null", X] is not wrapped (avsc's `wrapUnions: 'auto'`): null, or X's value.
      const write = this.compile(inner, path)
      return (buf, p, v) => (v === null ? writeLong(buf, p, 0) : write(buf, writeLong(buf, p, 1), v))
    }
    const o = node as SchemaObject
    switch (o.type) {
      case 'record':
        return this.record(o)
      case 'enum': {
        const index = new Map((o.symbols ?? []).map((s, i) => [s, i]))
        return (buf, p, v) => {
          const i = index.get(v as string)
          if (i === undefined) throw invalid(path, `one of ${[...index.keys()].join(', ')}`, v)
          return writeLong(buf, p, i)
        }
      }
      case 'array': {
        const item = this.compile(o.items ?? 'null', `${path}[]`)
        return (buf, p, v) => {
          if (!Array.isArray(v)) throw invalid(path, 'an array', v)
          if (v.length > 0) {
            p = writeLong(buf, p, v.length)
            for (const x of v) p = item(buf, p, x)
          }
          return writeLong(buf, p, 0)
        }
      }
      case 'map': {
        const value = this.compile(o.values ?? 'null', `${path}{}`)
        return (buf, p, v) => {
          if (v === null || typeof v !== 'object') throw invalid(path, 'an object', v)
          const entries = Object.entries(v)
          if (entries.length > 0) {
            p = writeLong(buf, p, entries.length)
            for (const [k, x] of entries) p = value(buf, writeString(buf, p, k), x)
          }
          return writeLong(buf, p, 0)
        }
      }
      default:
        return this.compile(o.type, path)
    }
  }

  /**
   * Any other union is wrapped, as avsc wraps it: `{ 'synclog.v1.Name': value }` (a named
   * branch by its name, with or without the namespace; a primitive by its type), or null.
   */
  private compileWrapped(union: readonly SchemaNode[], path: string): Write {
    const branches = new Map<string, { index: number; write: Write }>()
    let nullIndex = -1
    for (const [index, node] of union.entries()) {
      if (node === 'null') {
        nullIndex = index
        continue
      }
      const name =
        typeof node === 'string' ? node : isSchemaObject(node) ? (node.name ?? (typeof node.type === 'string' ? node.type : '')) : ''
      branches.set(shortName(name), { index, write: this.compile(node, path) })
    }
    const expected = `one of ${[...branches.keys()].join(', ')}${nullIndex >= 0 ? ' or null' : ''}, wrapped`
    return (buf, p, v) => {
      if (v === null) {
        if (nullIndex < 0) throw invalid(path, expected, v)
        return writeLong(buf, p, nullIndex)
      }
      const keys = typeof v === 'object' ? Object.keys(v) : []
      const key = keys.length === 1 ? keys[0]! : undefined
      const branch = key === undefined ? undefined : branches.get(shortName(key))
      if (key === undefined || branch === undefined) throw invalid(path, expected, key ?? v)
      return branch.write(buf, writeLong(buf, p, branch.index), ownValue(v as Readonly<Record<string, unknown>>, key))
    }
  }

  /**
   * One function per record: each field read with a constant name and written by its
   * type's writer; a field left out takes its default, as avsc does. Field names come
   * from the schema files, never from input.
   */
  private compileRecord(o: SchemaObject): Write {
    const name = shortName(o.name ?? '')
    const writes: Write[] = []
    const defaults: unknown[] = []
    const lines: string[] = []
    for (const [i, f] of (o.fields ?? []).entries()) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name)) throw new Error(`schema: field ${name}.${f.name} is not an Avro name`)
      writes.push(this.compile(f.type, `${name}.${f.name}`))
      defaults.push(f.default)
      lines.push(`x = v.${f.name};`)
      if ('default' in f) lines.push(`if (x === undefined) x = defaults[${i}];`)
      lines.push(`p = writes[${i}](buf, p, x);`)
    }
    const source = [
      `return function write${name}(buf, p, v) {`,
      `if (v === null || typeof v !== 'object') throw invalid(${JSON.stringify(name)}, 'a record', v);`,
      'let x;',
      ...lines,
      'return p;',
      '}',
    ].join('\n')
    const make = new Function('writes', 'defaults', 'invalid', source) as (
      writes: readonly Write[],
      defaults: readonly unknown[],
      invalidOf: typeof invalid,
    ) => Write
    return make(writes, defaults, invalid)
  }
}
