/**
 * Progress of a bundle read for the operator: bytes read of all the files to read,
 * and rows of the current file, reported when a file starts, about every
 * PROGRESS_EVERY_ROWS rows, and when it ends.
 */

export interface Progress {
  readonly file: string
  /** Rows read so far in `file`. */
  readonly rows: number
  /** Bytes read so far over all files of the bundle (uncompressed). */
  readonly bytes: number
  readonly totalBytes: number
}

const PROGRESS_EVERY_ROWS = 10_000

/** Byte counting on the way to the parser, for progress. */
export async function* counted(chunks: AsyncIterable<Buffer>, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    onBytes(chunk.length)
    yield chunk
  }
}

export class ProgressMeter {
  private bytes = 0
  private file = ''
  private rowCount = 0

  constructor(
    private readonly totalBytes: number,
    private readonly report: ((p: Progress) => void) | undefined,
  ) {}

  start(file: string): void {
    this.file = file
    this.rowCount = 0
    this.emit()
  }

  addBytes = (n: number): void => {
    this.bytes += n
  }

  /** Counts rows read; reports about every PROGRESS_EVERY_ROWS rows. */
  rows(n: number): void {
    const before = Math.floor(this.rowCount / PROGRESS_EVERY_ROWS)
    this.rowCount += n
    if (Math.floor(this.rowCount / PROGRESS_EVERY_ROWS) > before) this.emit()
  }

  end(): void {
    this.emit()
  }

  private emit(): void {
    this.report?.({ file: this.file, rows: this.rowCount, bytes: this.bytes, totalBytes: this.totalBytes })
  }
}
