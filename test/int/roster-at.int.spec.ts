/**
 * Rosters in time against an oracle: generated nights (src/generate, tiny scale) are
 * folded one after the other by the real processor and their sync-log events stored in
 * embedded ClickHouse. After each night the expected rosters are read from the
 * processor's committed state (the oracle, which shares no code with the store's SQL);
 * then the store's roster of every night's date, for sampled sections and students, must
 * equal the oracle's. One night is held and rejected, one held and approved, and the last
 * is held and left waiting; before another, the first night's export is previewed and
 * never applied: only applied rows count.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import type { SyncLogEvent } from '../../src/events/sync-log-event.js'
import { readOneRosterBundle } from '../../src/oneroster/read-bundle.js'
import {
  createProcessorState,
  DEFAULT_FOLD_OPTIONS,
  evolve,
  step,
  type FoldOptions,
  type ProcessorState,
} from '../../src/processor/index.js'
import { committedReader } from '../../src/processor/roster-store.js'
import { RosterLines } from '../../src/processor/views.js'
import { bundleDir, generateDataset } from '../../src/generate/generate.js'
import { SCALES } from '../../src/generate/scales.js'
import { Prng } from '../../src/generate/prng.js'
import { migrate } from '../../src/clickhouse/migrations.js'
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/open.js'
import { SyncLogStore, UNSCOPED } from '../../src/clickhouse/sync-log-store.js'
import type { RosterKey } from '../../src/clickhouse/roster-at.js'
import { silentLogger } from '../support/silent-logger.js'

const NIGHTS = 8
/** What a reviewer does with each night, held on purpose by thresholds no change passes. */
const REVIEW: ReadonlyMap<number, 'reject' | 'approve' | 'leave'> = new Map([
  [3, 'reject'],
  [5, 'approve'],
  [NIGHTS, 'leave'],
])
/** Before this night's sync, the first night's export is previewed (its changes proposed, never applied). */
const PREVIEW_NIGHT = 6
const HOLD_EVERYTHING: FoldOptions = { ...DEFAULT_FOLD_OPTIONS, holdThresholds: { deletePercent: 0, updatePercent: 0 } }
const SAMPLES_PER_NIGHT = 12

/** A roster line as both sides can name it. */
interface Line {
  readonly tenant: string
  readonly sourcedId: string
  readonly studentNumber: string
  readonly sectionNumber: string
}
const lineKey = (l: Line): string => JSON.stringify([l.tenant, l.sourcedId, l.studentNumber, l.sectionNumber])

let out: string
let ch: ClickHouse
let store: SyncLogStore
/** Per night: its date (YYYY-MM-DD), the roster lines of the committed state after it, and the keys its roster rows named. */
const expected: { date: string; lines: Line[]; touched: Line[] }[] = []
let held: { tenant: string; syncId: string; status: string }[] = []
let previewStatuses: string[] = []

/** Folds events as every adapter does (a step, then evolve) and stores what the fold wrote; returns its roster rows' lines. */
async function fold(state: ProcessorState, events: readonly ChangeEvent[], options: FoldOptions): Promise<Line[]> {
  const inputs = events.map((event, i) => ({ event, offset: String(i) }))
  const written: SyncLogEvent[] = []
  for (let from = 0; from < inputs.length;) {
    const result = step(state, inputs, options, from)
    written.push(...result.outputs)
    evolve(state, result.changes)
    from += result.consumed
  }
  await store.write(written)
  return written.flatMap((e) => (e.kind === 'LogRow' && e.action.endsWith(' Roster') ? [e] : []))
}

/** The oracle: every student's roster line in the committed state, as the processor sees it. */
function committedLines(state: ProcessorState): Line[] {
  const lines: Line[] = []
  for (const t of state.tenants.values()) {
    const reader = committedReader(t)
    const roster = new RosterLines(reader)
    for (const id of t.tables.enrollment.keys()) {
      const view = roster.of(id)
      if (view === undefined) continue
      const e = reader.get('enrollment', id)!
      lines.push({
        tenant: t.tenant,
        sourcedId: id,
        studentNumber: reader.get('user', e.userSourcedId)?.identifier ?? '',
        sectionNumber: reader.get('class', view.classId)?.classCode ?? '',
      })
    }
  }
  return lines
}

function decision(type: 'SyncApproved' | 'SyncRejected', tenant: string, syncId: string, occurredAt: string): ChangeEvent {
  return { type, eventId: `${syncId}-${type}`, tenant, syncId, app: 'reviewer', occurredAt, by: 'roster test' }
}

async function bundleEvents(tenant: string, night: number, syncId: string, occurredAt: string): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = []
  for await (const e of readOneRosterBundle({ path: bundleDir(join(out, 'data'), tenant, night), tenant, syncId, occurredAt }))
    events.push(e)
  return events
}

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'synclog-roster-at-'))
  const summary = await generateDataset({ scale: { ...SCALES.tiny, nights: NIGHTS }, out: join(out, 'data'), seed: 11, format: 'csv' })
  const logger = silentLogger()
  ch = await openClickHouse({ dataDir: join(out, 'store'), logger })
  await migrate(ch.client, logger)
  store = new SyncLogStore(ch.client, logger)
  const state = createProcessorState()
  for (let n = 1; n <= NIGHTS; n++) {
    const occurredAt = summary.perNight[n - 1]!.occurredAt
    const review = REVIEW.get(n)
    const touched: Line[] = []
    for (const tenant of summary.tenants) {
      const syncId = `${tenant}-n${n}`
      if (n === PREVIEW_NIGHT) {
        const an = new Date(Date.parse(occurredAt) - 3_600_000).toISOString()
        const [start, ...rest] = await bundleEvents(tenant, 1, `${tenant}-preview`, an)
        touched.push(...(await fold(state, [{ ...start!, preview: true } as ChangeEvent, ...rest], DEFAULT_FOLD_OPTIONS)))
      }
      const events = await bundleEvents(tenant, n, syncId, occurredAt)
      touched.push(...(await fold(state, events, review === undefined ? DEFAULT_FOLD_OPTIONS : HOLD_EVERYTHING)))
      if (review === 'reject' || review === 'approve') {
        const decidedAt = new Date(Date.parse(occurredAt) + 3_600_000).toISOString()
        await fold(
          state,
          [decision(review === 'reject' ? 'SyncRejected' : 'SyncApproved', tenant, syncId, decidedAt)],
          DEFAULT_FOLD_OPTIONS,
        )
      }
    }
    expected.push({ date: occurredAt.slice(0, 10), lines: committedLines(state), touched })
  }
  const runs = await store.listSyncs(UNSCOPED, {})
  previewStatuses = runs.filter((r) => r.syncId.endsWith('-preview')).map((r) => r.status)
  held = runs
    .filter((r) => REVIEW.has(Number(/-n(\d+)$/.exec(r.syncId)?.[1])))
    .map((r) => ({ tenant: r.tenant, syncId: r.syncId, status: r.status }))
}, 300_000)

afterAll(async () => {
  await ch?.close()
  if (out) await rm(out, { recursive: true, force: true })
})

/** A few keys of the night: half of them named by the night's roster rows (applied or not), the rest at random. */
function sample(night: number, pick: (l: Line) => string): string[] {
  const all = [...new Set(expected[night]!.lines.map(pick))].sort()
  const touched = [...new Set(expected[night]!.touched.map(pick))].sort()
  const rng = new Prng(night + 1)
  const chosen = new Set<string>()
  while (chosen.size < SAMPLES_PER_NIGHT / 2 && chosen.size < touched.length) chosen.add(touched[Math.floor(rng.next() * touched.length)]!)
  while (chosen.size < SAMPLES_PER_NIGHT && chosen.size < all.length) chosen.add(all[Math.floor(rng.next() * all.length)]!)
  return [...chosen].filter((k) => k !== '')
}

async function compare(night: number, key: RosterKey, matches: (l: Line) => boolean): Promise<void> {
  const { date, lines } = expected[night]!
  const roster = await store.rosterAt(UNSCOPED, { key, at: date })
  const got = roster.lines.map((l) => lineKey(l)).sort()
  const want = lines.filter(matches).map(lineKey).sort()
  expect(got, `${JSON.stringify(key)} at ${date} (night ${night + 1})`).toEqual(want)
}

describe('a roster at a date, rebuilt from the sync log, equals the processor state of that night', () => {
  it('holds, rejects, approves and leaves waiting the nights meant to be reviewed', () => {
    expect(held.length).toBe(REVIEW.size)
    const statusOf = (n: number) => held.find((h) => h.syncId.endsWith(`-n${n}`))?.status
    expect(statusOf(3)).toBe('Rejected')
    expect(statusOf(5)).toMatch(/^Completed/)
    expect(statusOf(NIGHTS)).toBe('On Hold')
    expect(previewStatuses).toEqual(['Preview'])
    // The nights under review did change rosters, so their rows are there to be ignored or counted.
    expect(new Set(expected[2]!.lines.map(lineKey))).toEqual(new Set(expected[1]!.lines.map(lineKey)))
    expect(new Set(expected[4]!.lines.map(lineKey))).not.toEqual(new Set(expected[3]!.lines.map(lineKey)))
  })

  it("gives each sampled section's students on every night's date", async () => {
    for (let night = 0; night < NIGHTS; night++) {
      for (const section of sample(night, (l) => l.sectionNumber)) await compare(night, { section }, (l) => l.sectionNumber === section)
    }
  })

  it("gives each sampled student's sections on every night's date", async () => {
    for (let night = 0; night < NIGHTS; night++) {
      for (const student of sample(night, (l) => l.studentNumber)) await compare(night, { student }, (l) => l.studentNumber === student)
    }
  })

  it('gives nothing before the first night, and the last applied state after every night', async () => {
    const [first] = expected[0]!.lines
    expect((await store.rosterAt(UNSCOPED, { key: { section: first!.sectionNumber }, at: '2000-01-01' })).lines).toEqual([])
    const last = expected[NIGHTS - 1]!
    const section = first!.sectionNumber
    const later = await store.rosterAt(UNSCOPED, { key: { section }, at: '2299-12-31T23:59:59Z' })
    expect(later.lines.map((l) => lineKey(l)).sort()).toEqual(
      last.lines
        .filter((l) => l.sectionNumber === section)
        .map(lineKey)
        .sort(),
    )
  })
})
