/**
 * A tiny zip writer for tests that need zips no honest tool makes: entries
 * streamed through deflate (a 5 GB entry costs a few MB), headers that lie
 * about sizes, two names pointing at the same bytes, thousands of entries.
 */
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { crc32, createDeflateRaw } from 'node:zlib'

export interface ZipEntrySpec {
  readonly name: string
  /** The entry's content, produced in pieces so a huge entry is never held whole. */
  readonly content: Iterable<Buffer | string> | Buffer | string
  /** Store instead of deflate. */
  readonly stored?: boolean
  /** Sizes written in the headers instead of the true ones (a lying header). */
  readonly claim?: { readonly compressed?: number; readonly uncompressed?: number }
  /** Reuse the bytes of an earlier entry (overlapping entries, the classic "zip bomb" trick). */
  readonly sameDataAs?: string
}

interface Written {
  readonly name: Buffer
  readonly offset: number
  readonly crc: number
  readonly compressed: number
  readonly uncompressed: number
  readonly method: number
}

function pieces(content: ZipEntrySpec['content']): Iterable<Buffer> {
  if (typeof content === 'string') return [Buffer.from(content)]
  if (Buffer.isBuffer(content)) return [content]
  return (function* () {
    for (const p of content) yield typeof p === 'string' ? Buffer.from(p) : p
  })()
}

async function compress(content: ZipEntrySpec['content'], stored: boolean): Promise<{ data: Buffer; crc: number; size: number }> {
  let crc = 0
  let size = 0
  if (stored) {
    const parts: Buffer[] = []
    for (const p of pieces(content)) {
      crc = crc32(p, crc)
      size += p.length
      parts.push(p)
    }
    return { data: Buffer.concat(parts), crc, size }
  }
  const deflate = createDeflateRaw({ level: 9 })
  const out: Buffer[] = []
  deflate.on('data', (d: Buffer) => out.push(d))
  for (const p of pieces(content)) {
    crc = crc32(p, crc)
    size += p.length
    if (!deflate.write(p)) await once(deflate, 'drain')
  }
  deflate.end()
  await once(deflate, 'end')
  return { data: Buffer.concat(out), crc, size }
}

function localHeader(name: Buffer, w: Omit<Written, 'name' | 'offset'>): Buffer {
  const h = Buffer.alloc(30)
  h.writeUInt32LE(0x04034b50, 0)
  h.writeUInt16LE(20, 4)
  h.writeUInt16LE(0x0800, 6) // UTF-8 names
  h.writeUInt16LE(w.method, 8)
  h.writeUInt32LE(w.crc >>> 0, 14)
  h.writeUInt32LE(w.compressed, 18)
  h.writeUInt32LE(w.uncompressed, 22)
  h.writeUInt16LE(name.length, 26)
  return Buffer.concat([h, name])
}

function centralHeader(w: Written): Buffer {
  const h = Buffer.alloc(46)
  h.writeUInt32LE(0x02014b50, 0)
  h.writeUInt16LE(20, 4)
  h.writeUInt16LE(20, 6)
  h.writeUInt16LE(0x0800, 8)
  h.writeUInt16LE(w.method, 10)
  h.writeUInt32LE(w.crc >>> 0, 16)
  h.writeUInt32LE(w.compressed, 20)
  h.writeUInt32LE(w.uncompressed, 24)
  h.writeUInt16LE(w.name.length, 28)
  h.writeUInt32LE(w.offset, 42)
  return Buffer.concat([h, w.name])
}

/** Writes `entries` as a zip at `path`; returns its size in bytes. */
export async function writeZip(path: string, entries: readonly ZipEntrySpec[]): Promise<number> {
  const out = createWriteStream(path)
  let offset = 0
  const put = async (b: Buffer): Promise<void> => {
    offset += b.length
    if (!out.write(b)) await once(out, 'drain')
  }
  const written: Written[] = []
  for (const e of entries) {
    const name = Buffer.from(e.name)
    if (e.sameDataAs !== undefined) {
      const target = written.find((w) => w.name.toString() === e.sameDataAs)
      if (!target) throw new Error(`writeZip: no earlier entry ${e.sameDataAs}`)
      written.push({ ...target, name })
      continue
    }
    const { data, crc, size } = await compress(e.content, e.stored === true)
    const w = {
      name,
      offset,
      crc,
      method: e.stored === true ? 0 : 8,
      compressed: e.claim?.compressed ?? data.length,
      uncompressed: e.claim?.uncompressed ?? size,
    }
    await put(localHeader(name, w))
    await put(data)
    written.push(w)
  }
  const cdStart = offset
  for (const w of written) await put(centralHeader(w))
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(written.length, 8)
  end.writeUInt16LE(written.length, 10)
  end.writeUInt32LE(offset - cdStart, 12)
  end.writeUInt32LE(cdStart, 16)
  await put(end)
  out.end()
  await once(out, 'finish')
  return offset
}

/** `line` repeated until about `bytes` bytes, in pieces of about 1 MiB. */
export function* repeated(line: string, bytes: number): Generator<Buffer> {
  const piece = Buffer.from(line.repeat(Math.max(1, Math.floor((1 << 20) / line.length))))
  for (let done = 0; done < bytes; done += piece.length) yield piece
}
