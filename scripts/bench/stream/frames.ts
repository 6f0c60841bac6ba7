/**
 * Kafka messages encoded ahead of time and kept in a file, so publishing during
 * the timed run costs only the produce (and memory stays flat at any scale).
 * A frame: u32 key length, key, u32 value length, value, u32 end-marker length,
 * end marker (the sync id when the message is that sync's SyncEnded, else empty).
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'

export interface Frame {
  readonly key: Buffer
  readonly value: Buffer
  /** The sync this message ends, or ''. */
  readonly endOf: string
}

export class FrameWriter {
  private readonly out
  private parts: Buffer[] = []
  private size = 0
  count = 0

  constructor(path: string) {
    this.out = createWriteStream(path)
  }

  async write(f: Frame): Promise<void> {
    const end = Buffer.from(f.endOf, 'utf8')
    const head = Buffer.allocUnsafe(4)
    head.writeUInt32BE(f.key.length)
    const mid = Buffer.allocUnsafe(4)
    mid.writeUInt32BE(f.value.length)
    const tail = Buffer.allocUnsafe(4)
    tail.writeUInt32BE(end.length)
    this.parts.push(head, f.key, mid, f.value, tail, end)
    this.size += 12 + f.key.length + f.value.length + end.length
    this.count++
    if (this.size > 1 << 20) await this.flush()
  }

  private async flush(): Promise<void> {
    if (this.parts.length === 0) return
    const chunk = Buffer.concat(this.parts)
    this.parts = []
    this.size = 0
    if (!this.out.write(chunk)) await once(this.out, 'drain')
  }

  async close(): Promise<void> {
    await this.flush()
    this.out.end()
    await once(this.out, 'finish')
  }
}

/** The frames of a file, in batches of `size`. */
export async function* frameBatches(path: string, size: number): AsyncGenerator<Frame[]> {
  let pending: Buffer = Buffer.alloc(0)
  let batch: Frame[] = []
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer])
    let at = 0
    for (;;) {
      if (pending.length - at < 4) break
      const keyLen = pending.readUInt32BE(at)
      if (pending.length - at < 8 + keyLen) break
      const valueLen = pending.readUInt32BE(at + 4 + keyLen)
      const endAt = at + 8 + keyLen + valueLen
      if (pending.length < endAt + 4) break
      const endLen = pending.readUInt32BE(endAt)
      if (pending.length < endAt + 4 + endLen) break
      batch.push({
        key: pending.subarray(at + 4, at + 4 + keyLen),
        value: pending.subarray(at + 8 + keyLen, endAt),
        endOf: pending.toString('utf8', endAt + 4, endAt + 4 + endLen),
      })
      at = endAt + 4 + endLen
      if (batch.length === size) {
        yield batch
        batch = []
      }
    }
    pending = Buffer.from(pending.subarray(at))
  }
  if (batch.length > 0) yield batch
  if (pending.length > 0) throw new Error(`${path}: ${pending.length} trailing bytes are not a whole frame`)
}
