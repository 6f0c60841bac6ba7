/**
 * import: OneRoster CSV rows/s, every district's bundle of every night in order
 * (night 1 is the initial load; later nights are full exports diffed against it).
 *
 * figure   = readOneRosterBundle (manifest, streamed CSV, row -> event) + applyEvent into one state;
 * baseline = synclog's own reader alone: readOneRosterBundle over the same bundles, iterated
 *            to the end, rows counted, no fold (part `reader`);
 * and a second row against csv-parse over the same six files of every bundle, rows counted
 * and dropped (part `csv-parse`): the CSV library underneath, streamed.
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
import type { ChildResult, ChildSpec, RowPart } from '../types.js'

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
  const csvParse = spec.part === 'csv-parse'
  const expected = csvDataRows(dataset)
  const state = createProcessorState()
  let rows = 0
  let produced = 0
  const statuses: Record<string, number> = {}
  const watch = new Stopwatch().start()
  for (const night of dataset.perNight) {
    for (const tenant of dataset.tenants) {
      const dir = bundleDir(spec.datasetDir, tenant, night.night)
      if (csvParse) {
        for (const file of ROSTER_FILES) rows += (await csvParseCount(join(dir, `${file}.csv`))) - 1
        continue
      }
      const events = readOneRosterBundle({ path: dir, tenant, syncId: `${tenant}-csv-n${night.night}`, occurredAt: night.occurredAt })
      for await (const event of events) {
        if (event.type === 'RecordChanged' || event.type === 'RecordUnreadable') rows++
        if (!figure) continue
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
  const reader: RowPart = { key: 'import', label: 'OneRoster import (read + fold / reader alone)', kind: 'rate', unit: 'rows/s' }
  const library: RowPart = {
    key: 'import-csv-parse',
    label: 'OneRoster import (read + fold / csv-parse alone)',
    kind: 'rate',
    unit: 'rows/s',
  }
  if (figure)
    return {
      rows: [
        { ...reader, figure: measure },
        { ...library, figure: measure },
      ],
    }
  return { rows: [csvParse ? { ...library, baseline: measure } : { ...reader, baseline: measure }] }
}
