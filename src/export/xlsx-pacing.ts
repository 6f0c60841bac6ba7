import { EventEmitter, once } from 'node:events'
import { setImmediate as nextTurn } from 'node:timers/promises'

/**
 * Backpressure for exceljs' streaming WorksheetWriter (docs/library-notes.md, exceljs).
 *
 * Each worksheet writes its XML into a StreamBuf that exceljs hands to archiver, which pipes it
 * into a PassThrough (readable-stream 2) and reads that as the zip entry. StreamBuf ignores the
 * PassThrough's `write()` result, so a fast producer fills memory. The PassThrough still records
 * that it wants draining and emits 'drain' once archiver has read it down (which in turn only
 * happens as fast as the file accepts the zipped bytes), so waiting on that restores backpressure.
 *
 * There is no public way to do this: readable-stream 2 has no `writableLength` or
 * `writableNeedDrain`, exceljs exposes neither the entry stream nor per-row promises, and
 * waiting on the output stream alone does not bound memory (deflate is slower than exceljs,
 * so on a fast disk the output never asks for a pause while hundreds of megabytes of XML
 * queue in the entry). So this reads exceljs/archiver internals (exceljs 4.4.0, archiver 5);
 * if their shape is not the expected one, the pacer falls back to yielding to the event loop
 * only, and a unit test fails.
 */
export class SheetPacer {
  private readonly sink: Drainable | undefined

  constructor(
    worksheet: object,
    private readonly failed: Promise<never>,
    private readonly yieldEvery: number,
  ) {
    this.sink = sheetSink(worksheet)
  }

  /** Call after committing data row `n` (1-based, counted across the whole workbook). */
  async afterRow(n: number): Promise<void> {
    if (this.sink?.needsDrain()) {
      await Promise.race([once(this.sink.emitter, 'drain'), this.failed])
    } else if (n % this.yieldEvery === 0) {
      await Promise.race([nextTurn(), this.failed])
    }
  }

  /** Whether real backpressure is in effect (false: fallback to yielding only). */
  get drains(): boolean {
    return this.sink !== undefined
  }
}

interface Drainable {
  readonly emitter: EventEmitter
  needsDrain(): boolean
}

function sheetSink(worksheet: object): Drainable | undefined {
  const buffer = objectAt(worksheet, 'stream')
  const pipes: unknown = buffer && Reflect.get(buffer, 'pipes')
  const sink: unknown = Array.isArray(pipes) ? pipes[0] : undefined
  if (!(sink instanceof EventEmitter)) return undefined
  const state = objectAt(sink, '_writableState')
  if (state === undefined || typeof Reflect.get(state, 'needDrain') !== 'boolean') return undefined
  return { emitter: sink, needsDrain: () => Reflect.get(state, 'needDrain') === true }
}

function objectAt(target: object, key: string): object | undefined {
  const value: unknown = Reflect.get(target, key)
  return typeof value === 'object' && value !== null ? value : undefined
}
