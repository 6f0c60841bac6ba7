/**
 * The Confluent wire format of a record value: magic byte 0, the writer schema's
 * registry id (4 bytes, big-endian), then the Avro binary body. Reading it never
 * touches the network, so framing problems are told apart from registry problems.
 *
 * Both directions are ours: the registry library's decode() builds a new reader type and
 * resolver for every record and does not export its frame reader, while AvroSerde keeps
 * one resolver per writer id and frames the values it encodes itself.
 */
import { SynclogError } from '../errors.js'

export const MAGIC_BYTE = 0
export const HEADER_BYTES = 5

/**
 * Why a record could not be decoded; a dead-letter header can carry it as is.
 * - `empty`: no value at all (a tombstone) or zero bytes;
 * - `not-framed`: the first byte is not the Confluent magic byte 0 (JSON, another serializer...);
 * - `truncated`: fewer than 5 bytes, so no schema id;
 * - `schema-unknown`: the registry has no schema under the id;
 * - `schema-unusable`: the writer schema is not an Avro schema this reader can resolve against;
 * - `undecodable`: the body is not valid Avro of its writer schema;
 * - `not-an-event`: valid Avro, but not an event of the contract (unknown payload, bad enum symbol...).
 */
export type DecodeFailure = 'empty' | 'not-framed' | 'truncated' | 'schema-unknown' | 'schema-unusable' | 'undecodable' | 'not-an-event'

/**
 * A record that will never decode, whatever the retries: route it to the dead-letter
 * topic with `reason`. (A registry that cannot be reached is a retriable SynclogError
 * instead, never a DecodeError.)
 */
export class DecodeError extends SynclogError {
  readonly reason: DecodeFailure
  /** The writer schema id, when the frame was readable. */
  readonly schemaId: number | null

  constructor(reason: DecodeFailure, message: string, options: { schemaId?: number | null; cause?: unknown } = {}) {
    super(reason === 'schema-unknown' ? 'SCHEMA_UNKNOWN' : 'DECODE_FAILED', message, { cause: options.cause })
    this.name = 'DecodeError'
    this.reason = reason
    this.schemaId = options.schemaId ?? null
  }
}

export function isDecodeError(e: unknown): e is DecodeError {
  return e instanceof DecodeError
}

export interface Frame {
  readonly schemaId: number
  readonly body: Buffer
}

function shown(buf: Buffer): string {
  return buf.subarray(0, 8).toString('hex') + (buf.length > 8 ? '…' : '')
}

/** Splits a framed value into schema id and Avro body; throws DecodeError when it is not framed. */
export function unframe(value: Buffer | null | undefined): Frame {
  if (value === null || value === undefined || value.length === 0) {
    throw new DecodeError('empty', 'record has no value (a tombstone or zero bytes): not Confluent-framed')
  }
  if (value[0] !== MAGIC_BYTE) {
    throw new DecodeError(
      'not-framed',
      `not Confluent-framed: first byte is 0x${value[0]?.toString(16).padStart(2, '0')}, expected magic byte 0x00 (bytes ${shown(value)})`,
    )
  }
  if (value.length < HEADER_BYTES) {
    throw new DecodeError(
      'truncated',
      `truncated Confluent frame: ${value.length} byte(s), a frame needs ${HEADER_BYTES} (magic byte and 4-byte schema id) before the Avro body`,
    )
  }
  return { schemaId: value.readInt32BE(1), body: value.subarray(HEADER_BYTES) }
}

function checkSchemaId(schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new SynclogError('USAGE', `schema id ${schemaId} is not a 31-bit registry id`)
  }
}

/** Writes the Confluent header (magic byte, schema id) at `pos` of `buf`. */
function writeHeader(buf: Buffer, pos: number, schemaId: number): void {
  buf[pos] = MAGIC_BYTE
  buf.writeInt32BE(schemaId, pos + 1)
}

/**
 * Writes an Avro body at `pos` of `buf` and returns where it ends; when it does not fit,
 * returns minus the number of bytes missing (avsc's `Type#encode`).
 */
export type EncodeInto = (buf: Buffer, pos: number) => number

/**
 * Frames values one after another in shared slabs and hands each out as a view of its
 * slab: one allocation per slab, where `frame` costs two buffers and a copy per value.
 * Meant for the many small values of a batch (sync-log events); a view keeps its slab
 * alive, so a large value (a changelog entry) is better framed on its own.
 */
export class FrameSlab {
  private slab = Buffer.alloc(0)
  private pos = 0

  constructor(private readonly slabBytes = 64 * 1024) {}

  frame(schemaId: number, encode: EncodeInto): Buffer {
    checkSchemaId(schemaId)
    let need = HEADER_BYTES
    for (;;) {
      const start = this.pos
      if (this.slab.length - start >= need) {
        writeHeader(this.slab, start, schemaId)
        const end = encode(this.slab, start + HEADER_BYTES)
        if (end >= 0) {
          this.pos = end
          return this.slab.subarray(start, end)
        }
        need = this.slab.length - start - end
      }
      // A fresh slab (never zero-filled: every byte handed out is written first).
      this.slab = Buffer.allocUnsafeSlow(Math.max(this.slabBytes, need))
      this.pos = 0
    }
  }
}

/**
 * Frames values of any size, each encoded once into a scratch buffer that grows to the
 * largest value seen, then copied out to a buffer of its own. (avsc's `toBuffer` encodes a
 * value of more than 1 KiB twice: once to learn its size, once into a buffer that size.)
 */
export class FrameScratch {
  private scratch = Buffer.alloc(64 * 1024)

  frame(schemaId: number, encode: EncodeInto): Buffer {
    checkSchemaId(schemaId)
    for (;;) {
      const end = encode(this.scratch, HEADER_BYTES)
      if (end >= 0) {
        const out = Buffer.allocUnsafe(end)
        this.scratch.copy(out, HEADER_BYTES, HEADER_BYTES, end)
        writeHeader(out, 0, schemaId)
        return out
      }
      this.scratch = Buffer.allocUnsafeSlow(2 * (this.scratch.length - end))
    }
  }
}

/** Prepends the Confluent header to an Avro body. */
export function frame(schemaId: number, body: Buffer): Buffer {
  checkSchemaId(schemaId)
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length)
  writeHeader(out, 0, schemaId)
  body.copy(out, HEADER_BYTES)
  return out
}
