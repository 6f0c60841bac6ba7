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

function startsWithBom(bytes: Buffer, start: number, end: number): boolean {
  return end - start >= 3 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf
}

/**
 * Splits `chunks` into physical lines, in batches (the lines completed by one
 * chunk) so a caller pays one asynchronous step per chunk, not per line. Empty
 * lines are included (callers skip them); no batch is empty.
 */
export async function* physicalLineBatches(chunks: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<readonly PhysicalLine[]> {
  // The beginning of a line that runs on into the next chunk.
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
  /** The line held in `bytes` from `start` to `end`; `valid` when those bytes are known to be UTF-8. */
  const lineOf = (bytes: Buffer, start: number, end: number, valid: boolean): PhysicalLine => {
    line++
    if (line === 1 && startsWithBom(bytes, start, end)) start += 3
    if (!overLong && end > start && bytes[end - 1] === CR) end--
    // A prefix may end inside a multi-byte character: only whole lines are checked.
    const invalidUtf8 = !overLong && !valid && !isUtf8(bytes.subarray(start, end))
    const result: PhysicalLine = { line, text: bytes.toString('utf8', start, end), overLong, invalidUtf8 }
    overLong = false
    return result
  }
  const finish = (): PhysicalLine => {
    const bytes = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size)
    parts = []
    size = 0
    return lineOf(bytes, 0, bytes.length, false)
  }

  for await (const chunk of chunks) {
    const batch: PhysicalLine[] = []
    let pos = 0
    let lf = chunk.indexOf(LF)
    if (lf >= 0 && (size > 0 || overLong)) {
      take(chunk.subarray(0, lf))
      batch.push(finish())
      pos = lf + 1
      lf = chunk.indexOf(LF, pos)
    }
    // The lines wholly inside this chunk are decoded from it in place, checked as UTF-8 in one go when they all are.
    const whole = lf >= 0 && isUtf8(chunk.subarray(pos, chunk.lastIndexOf(LF)))
    while (lf >= 0) {
      if (lf - pos > maxLineBytes) {
        take(chunk.subarray(pos, lf))
        batch.push(finish())
      } else {
        batch.push(lineOf(chunk, pos, lf, whole))
      }
      pos = lf + 1
      lf = chunk.indexOf(LF, pos)
    }
    // Copy: the rest of this chunk must not pin the chunk while the line grows.
    if (pos < chunk.length) take(Buffer.from(chunk.subarray(pos)))
    if (batch.length > 0) yield batch
  }
  if (size > 0 || overLong) yield [finish()]
}
