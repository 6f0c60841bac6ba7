/**
 * fold: change events/s of the pure fold over events already decoded, and what its state costs.
 *
 * Every night's NDJSON is read and decoded (parseNdjsonLine: JSON.parse + zod) first, timed
 * on its own; then the events are folded, timed:
 *
 * figure   = synclog's fold: step + evolve over each night's events, as every adapter folds;
 * baseline = the minimal fold (scripts/bench/minimal-fold.ts): the same state and output kinds,
 *            written the fastest plain way.
 *
 * Rows: the fold alone; read + decode + fold against read + decode alone (the figure this
 * stage used to report); heap bytes per committed roster record (heap after the fold, the
 * decoded events dropped and a forced GC, minus the heap before reading). Under callgrind
 * (--instructions) the child folds the tiny scale, or folds nothing (`foldNothing`) to
 * measure what is subtracted.
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { ChangeEvent } from '../../../src/events/change-event.js'
import { parseNdjsonLine } from '../../../src/ndjson/read-ndjson.js'
import { createProcessorState, DEFAULT_FOLD_OPTIONS, evolve, step, type StepInput } from '../../../src/processor/index.js'
import { ndjsonFile } from '../../../src/generate/generate.js'
import { readDataset } from '../dataset.js'
import { MinimalFold } from '../minimal-fold.js'
import { Stopwatch } from '../proc.js'
import { costMeasure, rateMeasure } from '../stats.js'
import type { ChildResult, ChildSpec, RowPart } from '../types.js'

export async function* ndjsonLines(path: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 }), crlfDelay: Infinity })
  for await (const line of lines) if (line !== '') yield line
}

/** The heap in use after a full collection (the child runs with --expose-gc). */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('fold: the child needs --expose-gc to measure the heap')
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** Every night's events, decoded; throws on a line the generator should never write. */
async function decodeNights(datasetDir: string, nights: readonly number[]): Promise<StepInput[][]> {
  const out: StepInput[][] = []
  for (const night of nights) {
    const inputs: StepInput[] = []
    let line = 0
    for await (const text of ndjsonLines(ndjsonFile(datasetDir, night))) {
      const item = parseNdjsonLine(text, ++line)
      if (item.kind !== 'event') throw new Error(`fold: night ${night} line ${line} is unreadable: ${item.message}`)
      inputs.push({ event: item.event, offset: String(line) })
    }
    out.push(inputs)
  }
  return out
}

interface Folded {
  /** Sync-log events (synclog) or actions and count rows (minimal fold) out. */
  readonly produced: number
  readonly committedRecords: number
  /** The folded state, held until the heap after the fold has been measured. */
  readonly state: unknown
}

/** synclog's fold, as the adapters run it: a step, then evolve, until the night is consumed. */
function synclogFold(nights: readonly (readonly StepInput[])[]): Folded {
  const state = createProcessorState()
  let produced = 0
  let committed = 0
  let deadLetters = 0
  for (const inputs of nights) {
    for (let from = 0; from < inputs.length;) {
      const result = step(state, inputs, DEFAULT_FOLD_OPTIONS, from)
      produced += result.outputs.length
      deadLetters += result.deadLetters.length
      // Committed records, from the fold's own counts (its output contract, not its layout).
      for (const e of result.outputs) if (e.kind === 'SyncCounts') committed += e.counts.new - e.counts.deleted
      evolve(state, result.changes)
      from += result.consumed
    }
  }
  if (deadLetters > 0) throw new Error(`fold: ${deadLetters} generated events were dead-lettered`)
  return { produced, committedRecords: committed, state }
}

function minimalFold(nights: readonly (readonly StepInput[])[]): Folded {
  const fold = new MinimalFold()
  for (const inputs of nights) for (const input of inputs) fold.apply((input as { event: ChangeEvent }).event)
  return { produced: fold.actions + fold.countRows, committedRecords: fold.records, state: fold }
}

export async function runFold(spec: ChildSpec): Promise<ChildResult> {
  const dataset = await readDataset(spec.datasetDir)
  const synclog = spec.variant === 'figure'
  const heapBefore = heapAfterGc()
  const decode = new Stopwatch().start()
  const nights = await decodeNights(
    spec.datasetDir,
    dataset.perNight.map((n) => n.night),
  )
  decode.stop()
  const rounds = spec.foldRounds ?? 1
  const events = rounds * nights.reduce((n, inputs) => n + inputs.length, 0)
  const foldWatch = new Stopwatch().start()
  let folded: Folded = { produced: 0, committedRecords: 0, state: null }
  if (!spec.foldNothing) for (let r = 0; r < rounds; r++) folded = synclog ? synclogFold(nights) : minimalFold(nights)
  foldWatch.stop()
  // The decoded events go; what the fold kept of them stays in its state.
  nights.length = 0
  const heapGrowth = heapAfterGc() - heapBefore
  if (folded.state === undefined) throw new Error('fold: no state')

  const side = (m: RowPart['figure']): Pick<RowPart, 'figure' | 'baseline'> => (synclog ? { figure: m } : { baseline: m })
  const outLabel = synclog ? 'sync-log events out' : 'actions and count rows out'
  return {
    rows: [
      {
        key: 'fold',
        label: 'fold, events already decoded (synclog / minimal fold)',
        kind: 'rate',
        unit: 'events/s',
        ...side(rateMeasure(events, foldWatch.seconds, foldWatch.cpuSeconds, { [outLabel]: folded.produced })),
      },
      {
        key: 'fold-decoded',
        label: 'fold with NDJSON decode (read + decode + synclog fold / read + decode alone)',
        kind: 'rate',
        unit: 'events/s',
        ...(synclog
          ? { figure: rateMeasure(events, decode.seconds + foldWatch.seconds, decode.cpuSeconds + foldWatch.cpuSeconds) }
          : { baseline: rateMeasure(events, decode.seconds, decode.cpuSeconds) }),
      },
      {
        key: 'fold-memory',
        label: 'heap per committed roster record (synclog / minimal fold)',
        kind: 'cost',
        unit: 'B/record',
        ...side(
          costMeasure(heapGrowth, folded.committedRecords, {
            'committed records': folded.committedRecords,
            'heap growth (bytes)': heapGrowth,
          }),
        ),
      },
    ],
  }
}
