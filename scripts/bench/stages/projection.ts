/**
 * projection: sync-log events/s into embedded ClickHouse (chDB).
 *
 * prep     = fold every night's NDJSON once and keep what the fold wrote (sync-log
 *            events: log rows, counts, statuses) as JSON lines, shared by both children;
 * figure   = SyncLogStore.write per batch of 20,000 events (what the embedded pipeline
 *            does): toTableRows, then one JSONCompactEachRow insert per table through the client;
 * baseline = the same batches, each row mapped to its columns by hand and sent as one
 *            `INSERT INTO <table> (<columns>) FORMAT JSONCompactEachRow` text per table through
 *            the same client.
 * Only the writes are timed (reading the prepared file is not); both start from fresh tables
 * with the same migrations, so the same materialized views run on both.
 */
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import type { LogRow, SyncCounts, SyncLogEvent, SyncStatusChanged } from '../../../src/events/sync-log-event.js'
import { parseNdjsonLine } from '../../../src/ndjson/read-ndjson.js'
import { applyEvent, createProcessorState } from '../../../src/processor/index.js'
import { toClickHouseText } from '../../../src/clickhouse/time.js'
import { COUNT_FIELDS, SYNC_LOG_COLUMNS, TABLE_COLUMNS } from '../../../src/clickhouse/rows.js'
import { ndjsonFile } from '../../../src/generate/generate.js'
import { readDataset } from '../dataset.js'
import { Stopwatch } from '../proc.js'
import { rateMeasure } from '../stats.js'
import { engineFacts, openBenchStore, scalar } from '../store.js'
import type { ChildResult, ChildSpec } from '../types.js'
import { ndjsonLines } from './fold.js'

/** Events per SyncLogStore.write, as the embedded pipeline batches them. */
export const WRITE_BATCH = 20_000
const EVENTS_FILE = 'sync-log-events.ndjson'

export async function runProjectionPrep(spec: ChildSpec): Promise<ChildResult> {
  const dataset = await readDataset(spec.datasetDir)
  const out = createWriteStream(join(spec.stageDir, EVENTS_FILE))
  const state = createProcessorState()
  const kinds: Record<string, number> = {}
  let buffer = ''
  for (const night of dataset.perNight) {
    let line = 0
    for await (const text of ndjsonLines(ndjsonFile(spec.datasetDir, night.night))) {
      const item = parseNdjsonLine(text, ++line)
      if (item.kind !== 'event') continue
      for (const e of applyEvent(state, item.event).events) {
        kinds[e.kind] = (kinds[e.kind] ?? 0) + 1
        buffer += `${JSON.stringify(e)}\n`
        if (buffer.length > 1 << 20) {
          if (!out.write(buffer)) await once(out, 'drain')
          buffer = ''
        }
      }
    }
  }
  out.end(buffer)
  await once(out, 'finish')
  return {
    rows: [],
    facts: {
      'projection input (fold output)': Object.entries(kinds)
        .map(([k, n]) => `${n} ${k}`)
        .join(', '),
    },
  }
}

async function* batches(path: string): AsyncGenerator<SyncLogEvent[]> {
  let batch: SyncLogEvent[] = []
  for await (const line of ndjsonLines(path)) {
    batch.push(JSON.parse(line) as SyncLogEvent)
    if (batch.length === WRITE_BATCH) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}

const chText = (iso: string): string => toClickHouseText(Date.parse(iso))

const LOG_COLUMNS = SYNC_LOG_COLUMNS.join(', ')
const COUNTS_COLUMNS = TABLE_COLUMNS.sync_counts.join(', ')
const RUNS_COLUMNS = 'tenant, syncId, app, status, version, startedAt, endedAt, message, modes'

function logLine(e: LogRow): string {
  return JSON.stringify(SYNC_LOG_COLUMNS.map((c) => (c === 'date' ? chText(e.date) : e[c])))
}

function countsLine(e: SyncCounts): string {
  const c = e.counts
  return JSON.stringify([
    e.tenant,
    e.syncId,
    e.app,
    e.entity,
    e.schoolId,
    e.schoolName,
    chText(e.startedAt),
    ...COUNT_FIELDS.map((f) => c[f]),
  ])
}

function runsLine(e: SyncStatusChanged): string {
  return JSON.stringify([
    e.tenant,
    e.syncId,
    e.app,
    e.status,
    e.version,
    chText(e.startedAt),
    e.endedAt === '' ? null : chText(e.endedAt),
    e.message,
    e.modes,
  ])
}

/** The baseline's write: one JSONCompactEachRow text per table, sent as a plain INSERT through the client. */
async function rawInsert(client: ClickHouseClient, events: readonly SyncLogEvent[]): Promise<void> {
  const log: string[] = []
  const counts: string[] = []
  const runs: string[] = []
  for (const e of events) {
    if (e.kind === 'LogRow') log.push(logLine(e))
    else if (e.kind === 'SyncCounts') counts.push(countsLine(e))
    else runs.push(runsLine(e))
  }
  for (const [table, columns, lines] of [
    ['sync_log', LOG_COLUMNS, log],
    ['sync_counts', COUNTS_COLUMNS, counts],
    ['sync_runs', RUNS_COLUMNS, runs],
  ] as const) {
    if (lines.length > 0)
      await client.command({ query: `INSERT INTO ${table} (${columns}) FORMAT JSONCompactEachRow\n${lines.join('\n')}` })
  }
}

export async function runProjection(spec: ChildSpec): Promise<ChildResult> {
  const figure = spec.variant === 'figure'
  const opened = await openBenchStore(spec.workDir)
  try {
    const watch = new Stopwatch()
    let events = 0
    let logRows = 0
    for await (const batch of batches(join(spec.stageDir, EVENTS_FILE))) {
      events += batch.length
      for (const e of batch) if (e.kind === 'LogRow') logRows++
      await watch.time(() => (figure ? opened.store.write(batch) : rawInsert(opened.client, batch)))
    }
    const stored = await scalar(opened.client, 'SELECT count() FROM sync_log')
    if (stored !== logRows) throw new Error(`projection: ${logRows} log rows written, ${stored} in sync_log`)
    const measure = rateMeasure(events, watch.seconds, watch.cpuSeconds, { 'log rows': logRows, 'batch (events)': WRITE_BATCH })
    return {
      rows: [
        {
          key: 'projection',
          label: 'projection (SyncLogStore.write, chDB)',
          kind: 'rate',
          unit: 'events/s',
          ...(figure ? { figure: measure } : { baseline: measure }),
        },
      ],
      facts: await engineFacts(opened.client),
    }
  } finally {
    await opened.close()
  }
}
