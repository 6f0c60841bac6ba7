/**
 * How a synclog process ends when it cannot go on: it always ends, with a
 * non-zero exit code and one line saying why, and never sits on the data
 * directory (the lock is removed by an exit hook, see src/state/data-dir-lock.ts).
 *
 * - Out of memory: V8 aborts the process. chDB installs ClickHouse's handler for
 *   SIGABRT when its session opens, and that handler waits for a thread chDB
 *   never starts, so the abort never finished: the process slept for ever with
 *   the lock held. `keepAbortFatal` puts a handler back that returns, after which
 *   abort(3) restores the default action and the process dies (exit 134).
 * - Close to out of memory: V8 first spends minutes in back-to-back garbage
 *   collections. `watchHeap` ends the command when the heap is still nearly full
 *   after a full collection (limits.heapPercent), with a message saying so.
 * - An exception or rejection nobody handled: one line, exit 1; unless it came from work
 *   that can fail alone and claims it (`containUnhandled`: one command that `synclog serve`
 *   runs for another process), which then fails by itself while the process goes on.
 */
import { writeSync } from 'node:fs'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { formatBytes, howToRaise } from '../config/limits.js'
import { terminalText } from '../export/terminal-text.js'

const EXIT_ERROR = 1
const EXIT_ABORTED = 134

/** Writes `message` (control characters escaped) to stderr synchronously (the process is about to end) and exits with `code`. */
export function exitNow(code: number, message: string): never {
  try {
    writeSync(2, `synclog: ${terminalText(message, { keepNewlines: true })}\n`)
  } catch {
    // stderr is gone; the exit code still says it.
  }
  process.exit(code)
}

function onAbortSignal(): void {
  exitNow(EXIT_ABORTED, 'aborted (SIGABRT)')
}

/** Makes SIGABRT end the process again; call after anything native (chDB) may have taken the signal over. */
export function keepAbortFatal(): void {
  // Removing the last listener resets the signal; adding one installs libuv's handler over whatever is there now.
  process.removeListener('SIGABRT', onAbortSignal)
  process.on('SIGABRT', onAbortSignal)
}

let heapObserver: PerformanceObserver | null = null

/**
 * V8's heap limit counts the young generation (3 × 16 MiB semi-spaces on 64-bit)
 * as well as the old one, but it gives up when the old generation is full: the
 * share is taken of the old generation's limit.
 */
const YOUNG_GENERATION_BYTES = 48 * 1024 * 1024

/**
 * Ends the process (exit 1) when, after a full garbage collection, more than
 * `percent` % of the heap limit is still in use: from there V8 only thrashes
 * until it aborts. Once per process; a later call changes the threshold.
 */
export function watchHeap(percent: number): void {
  heapObserver?.disconnect()
  heapObserver = new PerformanceObserver((list) => {
    const major = list
      .getEntries()
      .some((e) => (e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
    if (!major) return
    const { used_heap_size: used, heap_size_limit: heapLimit } = getHeapStatistics()
    const limit = Math.max(heapLimit - YOUNG_GENERATION_BYTES, heapLimit / 2)
    if (used <= (limit * percent) / 100) return
    exitNow(
      EXIT_ERROR,
      `out of memory: ${formatBytes(used)} of the ${formatBytes(limit)} JavaScript heap is in use after a full garbage collection ` +
        `(more than the limit heapPercent, ${percent} %), so the command stops here. The input is too large for this heap: ` +
        `give Node more (NODE_OPTIONS=--max-old-space-size=<MiB>), split the input, or ${howToRaise('heapPercent')}.`,
    )
  })
  heapObserver.observe({ entryTypes: ['gc'] })
}

/** Claims an error nothing handled: true when it belonged to work that failed alone, and the process goes on. */
export type ContainUnhandled = (error: unknown) => boolean

let containment: ContainUnhandled | undefined

/** From now on (until called with undefined), an unhandled exception or rejection goes to `contain` first. */
export function containUnhandled(contain: ContainUnhandled | undefined): void {
  containment = contain
}

/** An exception or a rejection that escaped every handler ends the process with one line, not a hang or a trace (unless contained). */
export function exitOnUnhandled(): void {
  const fatal = (e: unknown): void => {
    let contained: boolean
    try {
      contained = containment?.(e) === true
    } catch {
      contained = false
    }
    if (!contained) exitNow(EXIT_ERROR, unexpectedError(e))
  }
  process.on('uncaughtException', fatal)
  process.on('unhandledRejection', fatal)
}

/** The one line an error nothing handled gets, in a process of its own or a command a service ran. */
export function unexpectedError(e: unknown): string {
  return `unexpected error: ${e instanceof Error ? e.message : String(e)}`
}
