/**
 * A file written as many small strings: they are joined into ~1 MiB chunks
 * before reaching the stream, and `drain()` waits for the disk, so a writer
 * that drains between schools never holds more than a school's worth of text.
 */
import { createWriteStream, type WriteStream } from 'node:fs'
import { once } from 'node:events'

const CHUNK_CHARS = 1 << 20

export class TextSink {
  private parts: string[] = []
  private chars = 0
  private readonly stream: WriteStream
  private failure: Error | null = null
  /** Bytes handed to the file so far. */
  bytes = 0

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { encoding: 'utf8' })
    this.stream.on('error', (e) => {
      this.failure = e
    })
  }

  write(text: string): void {
    this.parts.push(text)
    this.chars += text.length
    if (this.chars >= CHUNK_CHARS) this.flush()
  }

  private flush(): void {
    if (this.parts.length === 0) return
    const chunk = this.parts.join('')
    this.parts = []
    this.chars = 0
    this.bytes += Buffer.byteLength(chunk, 'utf8')
    this.stream.write(chunk)
  }

  /** Hands buffered text to the file and waits until the file has taken it. */
  async drain(): Promise<void> {
    this.flush()
    if (this.failure) throw this.failure
    if (this.stream.writableNeedDrain) await once(this.stream, 'drain')
  }

  async close(): Promise<void> {
    this.flush()
    if (this.failure) throw this.failure
    const finished = once(this.stream, 'finish')
    this.stream.end()
    await finished
  }
}
