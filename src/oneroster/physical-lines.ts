/**
 * Physical lines of a byte stream: the unit a OneRoster CSV row lives on, since
 * the binding forbids line breaks inside a field (docs/oneroster.md#files-and-csv).
 *
 * Framing on LF (a CR before it is dropped) means a broken row can never swallow
 * the rows after it, and a bounded line buffer means an absurdly long line costs
 * at most `maxLineBytes` of memory, however long it really is.
 */
import { isUtf8 } from 'node:buffer'

export interface PhysicalLine {
  /** 1-based physical line number. */
  readonly line: number
  /** The line without its line break (and without a leading BOM on line 1); a prefix when `overLong`. */
  readonly text: string
  /** The line was longer than `maxLineBytes`: `text` holds only its beginning. */
  readonly overLong: boolean
  /** The bytes are not valid UTF-8 (`text` then holds replacement characters). */
  readonly invalidUtf8: boolean
}

const LF = 0x0a
const CR = 0x0d
const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/**
 * Splits `chunks` into physical lines, in batches (the lines completed by one
 * chunk) so a caller pays one asynchronous step per chunk, not per line. Empty
 * lines are included (callers skip them); no batch is empty.
 */
export async function* physicalLineBatches(chunks: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<readonly PhysicalLine[]> {
  let parts: Buffer[] = []
  let size = 0
  let overLong = false
  let line = 0

  const take = (piece: Buffer): void => {
    if (overLong || piece.length === 0) return
    const room = maxLineBytes - size
    if (piece.length > room) {
      overLong = true
      piece = piece.subarray(0, room)
    }
    parts.push(piece)
    size += piece.length
  }
  const finish = (): PhysicalLine => {
    let bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size)
    line++
    if (line === 1 && bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3)
    if (!overLong && bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1)
    // A prefix may end inside a multi-byte character: only whole lines are checked.
    const result = { line, text: bytes.toString('utf8'), overLong, invalidUtf8: !overLong && !isUtf8(bytes) }
    parts = []
    size = 0
    overLong = false
    return result
  }

  for await (const chunk of chunks) {
    const batch: PhysicalLine[] = []
    let pos = 0
    for (;;) {
      const lf = chunk.indexOf(LF, pos)
      if (lf < 0) {
        // Copy: the rest of this chunk must not pin the chunk while the line grows.
        take(Buffer.from(chunk.subarray(pos)))
        break
      }
      take(chunk.subarray(pos, lf))
      batch.push(finish())
      pos = lf + 1
    }
    if (batch.length > 0) yield batch
  }
  if (size > 0 || overLong) yield [finish()]
}
