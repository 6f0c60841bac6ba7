/**
 * The fold's output, pinned: the generated nights (src/generate, tiny scale, seed 1)
 * folded from their NDJSON change events and from their OneRoster bundles, under the
 * default rules, under hold thresholds tight enough to hold a night (then approved, and
 * in another run rejected), and with one school not onboarded; and the demo district's
 * two nights. Every sync-log event and the final state are hashed (SHA-256 of canonical
 * JSON: keys sorted, Maps as sorted entries).
 *
 * A refactor must leave every hash as it is. A change that means to change the output
 * updates the hash it changes, and says why in its commit.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import type { SyncLogEvent } from '../../src/events/sync-log-event.js'
import { parseNdjsonLine } from '../../src/ndjson/read-ndjson.js'
import { readOneRosterBundle } from '../../src/oneroster/read-bundle.js'
import {
  createProcessorState,
  DEFAULT_FOLD_OPTIONS,
  evolve,
  step,
  type FoldOptions,
  type ProcessorState,
} from '../../src/processor/index.js'
import { generateDemoNights } from '../../src/demo/district.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { bundleDir, generateDataset, ndjsonFile } from '../../src/generate/generate.js'
import { SCALES } from '../../src/generate/scales.js'

const NIGHTS = 3

/** JSON with object keys sorted and Maps/Sets as sorted arrays: the same data always gives the same text. */
function canonical(value: unknown): unknown {
  if (value instanceof Map) {
    return [...value.entries()]
      .map(([k, v]) => [canonical(k), canonical(v)] as const)
      .sort((a, b) => (JSON.stringify(a[0]) < JSON.stringify(b[0]) ? -1 : 1))
  }
  if (value instanceof Set)
    return [...value]
      .map(canonical)
      .map((v) => JSON.stringify(v))
      .sort()
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key]
      if (v !== undefined) out[key] = canonical(v)
    }
    return out
  }
  return value
}

class Digest {
  private readonly hash = createHash('sha256')
  events = 0
  add(event: SyncLogEvent): void {
    this.hash.update(JSON.stringify(canonical(event)))
    this.hash.update('\n')
    this.events++
  }
  /** The roster, the syncs and the holds of every tenant: what the state means, not how it is laid out. */
  finish(state: ProcessorState): { events: number; log: string; state: string } {
    const tenants = [...state.tenants.values()]
      .sort((a, b) => (a.tenant < b.tenant ? -1 : 1))
      .map((t) => ({
        tenant: t.tenant,
        tables: canonical(t.tables),
        syncs: canonical(t.syncs),
        held: canonical(t.held),
        pending: [...t.pending.keys()].sort(),
      }))
    const stateHash = createHash('sha256').update(JSON.stringify(tenants)).digest('hex')
    return { events: this.events, log: this.hash.digest('hex').slice(0, 16), state: stateHash.slice(0, 16) }
  }
}

/** Folds events as every adapter does: a step, then evolve, until the input is consumed. */
function fold(state: ProcessorState, events: readonly ChangeEvent[], digest: Digest, options: FoldOptions): void {
  const inputs = events.map((event, i) => ({ event, offset: String(i) }))
  for (let from = 0; from < inputs.length;) {
    const result = step(state, inputs, options, from)
    for (const out of result.outputs) digest.add(out)
    evolve(state, result.changes)
    from += result.consumed
  }
}

async function ndjsonNight(out: string, night: number): Promise<ChangeEvent[]> {
  const text = await readFile(ndjsonFile(out, night), 'utf8')
  const events: ChangeEvent[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    const item = parseNdjsonLine(line, i + 1)
    if (item.kind !== 'event') throw new Error(`night ${night} line ${i + 1}: ${item.field} ${item.message}`)
    events.push(item.event)
  })
  return events
}

async function bundleNight(path: string, tenant: string, syncId: string, occurredAt: string): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = []
  for await (const e of readOneRosterBundle({ path, tenant, syncId, occurredAt })) events.push(e)
  return events
}

const syncEnd = (type: 'SyncApproved' | 'SyncRejected', held: { tenant: string; syncId: string }, n: number): ChangeEvent => ({
  type,
  eventId: `golden-${type}-${n}`,
  tenant: held.tenant,
  syncId: held.syncId,
  app: 'reviewer',
  occurredAt: '2030-01-01T00:00:00Z',
  by: 'golden',
})

let out: string
let tenants: readonly string[]
let nights: { occurredAt: string }[]

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'synclog-golden-'))
  const summary = await generateDataset({ scale: { ...SCALES.tiny, nights: NIGHTS }, out, seed: 1, format: 'both' })
  tenants = summary.tenants
  nights = summary.perNight.map((n) => ({ occurredAt: n.occurredAt }))
}, 120_000)

afterAll(async () => {
  await rm(out, { recursive: true, force: true })
})

type AfterNight = (state: ProcessorState) => ChangeEvent[]

/** Folds every night from NDJSON; after each night, `afterNight` may add events (a reviewer's decision). */
async function foldNdjson(options: FoldOptions): Promise<ReturnType<Digest['finish']>> {
  const state = createProcessorState()
  const digest = new Digest()
  for (let n = 1; n <= NIGHTS; n++) fold(state, await ndjsonNight(out, n), digest, options)
  return digest.finish(state)
}

/** Folds every night from the OneRoster bundles (full syncs); after each night, `afterNight` may add events (a reviewer's decision). */
async function foldBundles(options: FoldOptions, afterNight?: AfterNight): Promise<ReturnType<Digest['finish']>> {
  const state = createProcessorState()
  const digest = new Digest()
  for (let n = 1; n <= NIGHTS; n++) {
    for (const tenant of tenants) {
      fold(state, await bundleNight(bundleDir(out, tenant, n), tenant, `${tenant}-csv-n${n}`, nights[n - 1]!.occurredAt), digest, options)
      if (afterNight) fold(state, afterNight(state), digest, options)
    }
  }
  return digest.finish(state)
}

function heldSyncs(state: ProcessorState): { tenant: string; syncId: string }[] {
  return [...state.tenants.values()].flatMap((t) => [...t.held.keys()].sort().map((syncId) => ({ tenant: t.tenant, syncId })))
}

const TIGHT: FoldOptions = { ...DEFAULT_FOLD_OPTIONS, holdThresholds: { deletePercent: 0.05, updatePercent: 0.2 } }

describe('the fold gives the same output as before on the generated nights', () => {
  it('folds the NDJSON nights to the pinned log and state', async () => {
    expect(await foldNdjson(DEFAULT_FOLD_OPTIONS)).toEqual({ events: 3749, log: 'd778ce9f2c43852a', state: '6fee45e74ee74bfc' })
  })

  it('folds the OneRoster bundles of the same nights to the pinned log and state', async () => {
    expect(await foldBundles(DEFAULT_FOLD_OPTIONS)).toEqual({ events: 3785, log: '2b5069af266d093c', state: 'b3215c082cd7ebef' })
  })

  it('holds nights under tight thresholds, and approving them gives the pinned log and state', async () => {
    let n = 0
    const result = await foldBundles(TIGHT, (state) => heldSyncs(state).map((h) => syncEnd('SyncApproved', h, n++)))
    expect(n).toBeGreaterThan(0)
    expect(result).toEqual({ events: 3787, log: '2715aea99b7d2926', state: 'be398fe8081896b9' })
  })

  it('holds nights under tight thresholds, and rejecting them gives the pinned log and state', async () => {
    let n = 0
    const result = await foldBundles(TIGHT, (state) => heldSyncs(state).map((h) => syncEnd('SyncRejected', h, n++)))
    expect(n).toBeGreaterThan(0)
    expect(result).toEqual({ events: 3820, log: 'd909c826f908df0f', state: 'bdad5f85f7b007da' })
  })

  it('folds the nights with one school not onboarded to the pinned log and state', async () => {
    const first = tenants[0]!
    const files = await readdir(bundleDir(out, first, 1))
    expect(files).toContain('orgs.csv')
    const orgs = (await readFile(join(bundleDir(out, first, 1), 'orgs.csv'), 'utf8'))
      .split('\n')
      .slice(1)
      .filter((l) => l.includes(',school,'))
      .map((l) => l.split(',')[0]!.replace(/"/g, ''))
      .sort()
    const onboarded = new Map([[first, orgs.slice(1)]])
    expect(await foldNdjson({ ...DEFAULT_FOLD_OPTIONS, onboardedSchools: onboarded })).toEqual({
      events: 3749,
      log: '20474d4c1ab9b7fd',
      state: '999ed20a050b7a71',
    })
  })

  it("folds the demo district's two nights to the pinned log and state", async () => {
    const demo = generateDemoNights({ seed: 7, schoolYear: 2026 })
    const dir = join(out, 'demo')
    await writeOneRosterBundle(join(dir, 'night1'), demo.night1)
    await writeOneRosterBundle(join(dir, 'night2'), demo.night2)
    const state = createProcessorState()
    const digest = new Digest()
    fold(state, await bundleNight(join(dir, 'night1'), 'district-a', 'demo-n1', '2026-09-01T02:00:00Z'), digest, DEFAULT_FOLD_OPTIONS)
    fold(state, await bundleNight(join(dir, 'night2'), 'district-a', 'demo-n2', '2026-09-02T02:00:00Z'), digest, DEFAULT_FOLD_OPTIONS)
    fold(state, await bundleNight(join(dir, 'night1'), 'district-b', 'demo-b1', '2026-09-01T03:00:00Z'), digest, DEFAULT_FOLD_OPTIONS)
    expect(digest.finish(state)).toEqual({ events: 4123, log: 'ebaa9daf58e2349f', state: '48042926caa5d151' })
  })
})
