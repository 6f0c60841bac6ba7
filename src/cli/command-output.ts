/**
 * Standard output and error of a command, for a reader that may go away: `synclog log | head -1`
 * closes the pipe after one line. The write that meets the closed pipe (EPIPE) then ends the
 * output quietly: later writes are dropped, streamed outputs stop early, and the command
 * finishes as usual (closing the store and releasing the data-directory lock) with its exit
 * code, instead of an EPIPE stack trace.
 */
import { Writable } from 'node:stream'

/** Errors that mean the reader is gone, not that something failed. */
const READER_GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END', 'ECONNRESET'])

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code

export class CommandOutput extends Writable {
  private gone = false

  constructor(private readonly target: Writable) {
    super({ decodeStrings: false })
    target.on('error', (e: Error) => {
      if (READER_GONE.has(codeOf(e) ?? '')) this.gone = true
      else this.destroy(e)
    })
  }

  /** True once the reader closed its end; nothing more reaches it. */
  get readerGone(): boolean {
    return this.gone || this.target.destroyed
  }

  override _write(chunk: string | Buffer, encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.readerGone) return done()
    this.target.write(chunk, encoding, (e) => {
      if (e && READER_GONE.has(codeOf(e) ?? '')) this.gone = true
      done(e && !this.gone ? e : null)
    })
  }
}

let streams: { stdout: CommandOutput; stderr: CommandOutput } | undefined

/** The process's stdout and stderr, wrapped once. */
export function commandStreams(): { stdout: CommandOutput; stderr: CommandOutput } {
  streams ??= { stdout: new CommandOutput(process.stdout), stderr: new CommandOutput(process.stderr) }
  return streams
}

/** Whether a command's output stream has lost its reader (always false for files and other streams). */
export function readerGone(out: NodeJS.WritableStream): boolean {
  return out instanceof CommandOutput ? out.readerGone : (out as Partial<Writable>).destroyed === true
}

/** `rows` until `out` loses its reader, so a streamed output stops reading the store early. */
export async function* whileReaderThere<T>(rows: AsyncIterable<T>, out: NodeJS.WritableStream): AsyncGenerator<T> {
  for await (const row of rows) {
    if (readerGone(out)) return
    yield row
  }
}
