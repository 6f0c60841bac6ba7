/**
 * import: OneRoster CSV rows/s, every district's bundle of every night in order
 * (night 1 is the initial load; later nights are full exports diffed against it).
 *
 * figure   = readOneRosterBundle (manifest, streamed CSV, row -> event) + applyEvent into one state;
 * baseline = csv-parse over the same six files of every bundle, rows counted and dropped.
 */
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse'
import { ROSTER_FILES } from '../../../src/demo/write-oneroster.js'
import { readOneRosterBundle } from '../../../src/oneroster/read-bundle.js'
import { applyEvent, createProcessorState } from '../../../src/processor/index.js'
import { bundleDir } from '../../../src/generate/generate.js'
import { csvDataRows, readDataset } from '../dataset.js'
import { Stopwatch } from '../proc.js'
import { rateMeasure } from '../stats.js'
import type { ChildResult, ChildSpec } from '../types.js'

/** Records of a CSV file by csv-parse's stream API (header included). */
async function csvParseCount(path: string): Promise<number> {
  const parser = createReadStream(path, { highWaterMark: 64 * 1024 }).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true }),
  )
  let records = 0
  parser.on('readable', () => {
    while (parser.read() !== null) records++
  })
  await new Promise<void>((resolve, reject) => {
    parser.once('end', resolve)
    parser.once('error', reject)
  })
  return records
}

export async function runImport(spec: ChildSpec): Promise<ChildResult> {
  const dataset = await readDataset(spec.datasetDir)
  const figure = spec.variant === 'figure'
  const expected = csvDataRows(dataset)
  const state = createProcessorState()
  let rows = 0
  let produced = 0
  const statuses: Record<string, number> = {}
  const watch = new Stopwatch().start()
  for (const night of dataset.perNight) {
    for (const tenant of dataset.tenants) {
      const dir = bundleDir(spec.datasetDir, tenant, night.night)
      if (!figure) {
        for (const file of ROSTER_FILES) rows += (await csvParseCount(join(dir, `${file}.csv`))) - 1
        continue
      }
      const events = readOneRosterBundle({ path: dir, tenant, syncId: `${tenant}-csv-n${night.night}`, occurredAt: night.occurredAt })
      for await (const event of events) {
        if (event.type === 'RecordChanged' || event.type === 'RecordUnreadable') rows++
        const result = applyEvent(state, event)
        produced += result.events.length
        for (const e of result.events)
          if (e.kind === 'SyncStatusChanged' && e.status !== 'Running') statuses[e.status] = (statuses[e.status] ?? 0) + 1
      }
    }
  }
  watch.stop()
  if (rows !== expected) throw new Error(`import read ${rows} data rows, the dataset has ${expected}`)
  const extra: Record<string, string | number> = figure
    ? {
        'sync-log events out': produced,
        syncs: Object.entries(statuses)
          .map(([s, n]) => `${n} ${s}`)
          .join(', '),
      }
    : {}
  const measure = rateMeasure(rows, watch.seconds, watch.cpuSeconds, extra)
  return {
    rows: [
      {
        key: 'import',
        label: 'OneRoster import (read + fold)',
        kind: 'rate',
        unit: 'rows/s',
        ...(figure ? { figure: measure } : { baseline: measure }),
      },
    ],
  }
}
