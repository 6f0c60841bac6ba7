/**
 * fold: change events/s of the pure fold, read from the nights' NDJSON.
 *
 * figure   = read line -> parseNdjsonLine (JSON.parse + zod) -> applyEvent, every night in order;
 * baseline = the same loop without applyEvent: what it costs to get a valid event into the fold.
 * The difference is the fold itself (reported as "fold alone").
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseNdjsonLine } from '../../../src/ndjson/read-ndjson.js'
import { applyEvent, createProcessorState } from '../../../src/processor/index.js'
import { ndjsonFile } from '../../../src/generate/generate.js'
import { readDataset } from '../dataset.js'
import { Stopwatch } from '../proc.js'
import { rateMeasure } from '../stats.js'
import type { ChildResult, ChildSpec } from '../types.js'

export async function* ndjsonLines(path: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024 }), crlfDelay: Infinity })
  for await (const line of lines) if (line !== '') yield line
}

export async function runFold(spec: ChildSpec): Promise<ChildResult> {
  const dataset = await readDataset(spec.datasetDir)
  const fold = spec.variant === 'figure'
  const state = createProcessorState()
  let events = 0
  let produced = 0
  let issues = 0
  let rejected = 0
  const watch = new Stopwatch().start()
  for (const night of dataset.perNight) {
    let line = 0
    for await (const text of ndjsonLines(ndjsonFile(spec.datasetDir, night.night))) {
      const item = parseNdjsonLine(text, ++line)
      if (item.kind !== 'event') {
        issues++
        continue
      }
      events++
      if (!fold) continue
      const result = applyEvent(state, item.event)
      produced += result.events.length
      if (result.rejected) rejected++
    }
  }
  watch.stop()
  if (issues > 0 || rejected > 0) throw new Error(`fold: ${issues} unreadable lines and ${rejected} rejected events in the generated data`)
  const extra: Record<string, number> = fold ? { 'sync-log events out': produced } : {}
  const measure = rateMeasure(events, watch.seconds, watch.cpuSeconds, extra)
  return {
    rows: [
      { key: 'fold', label: 'fold (applyEvent)', kind: 'rate', unit: 'events/s', ...(fold ? { figure: measure } : { baseline: measure }) },
    ],
  }
}
