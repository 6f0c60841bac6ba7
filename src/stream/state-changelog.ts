/**
 * The processor's state as a compacted changelog of deltas (the Kafka Streams way):
 * each state change becomes keyed entries; the latest entry per key, read in offset
 * order, rebuilds the state. Keys are UTF-8 JSON arrays, so a tenant, sync id or
 * sourcedId with any character (colons, slashes, spaces, NUL, non-ASCII) stays whole:
 *   ["c", tenant, n]                  chunk n of the tenant's committed roster changes (tombstone: superseded by a snapshot)
 *   ["s", tenant, syncId]             a sync's status and bookkeeping
 *   ["o", tenant, syncId]             a sync still open, with the input offset of its SyncStarted (tombstone: closed)
 *   ["h", tenant, syncId]             a sync On Hold: how many changes in how many chunks (tombstone: decided)
 *   ["hc", tenant, syncId, n]         chunk n of its changes, at most CHUNK_CHANGES each (tombstone: decided)
 * Values are Avro (`schemas/processor-state.avsc`, see changelog-avro.ts). The records an
 * open sync takes in are not logged: a restore reads them again from the input
 * (`takeInAgain`), from the sync's SyncStarted up to the committed input offset.
 *
 * A committed sync is logged as chunks of its changes, numbered on per tenant, so a
 * night of 60,000 records is 60 messages, not 60,000. The live chunks of a tenant,
 * applied in index order, are its roster. They are kept bounded: when they hold more
 * than SNAPSHOT_FACTOR times the tenant's records (plus one chunk), the next commit
 * first writes the roster as it stands as new chunks and tombstones the older ones,
 * in the same transaction.
 */
import { ENTITY_TYPES } from '../events/change-event.js'
import { SynclogError } from '../errors.js'
import {
  createProcessorState,
  createTenantState,
  evolve,
  step,
  type FoldOptions,
  type OverlayData,
  type ProcessorState,
  type StateChange,
  type StepInput,
  type TenantState,
} from '../processor/index.js'
import type { AnyRecord } from '../processor/records.js'
import { emptyOverlay, Overlay } from '../processor/roster-store.js'
import { changelogValueToAvro, type ChangelogValue, type RosterChange } from './changelog-avro.js'

export type { ChangelogValue, RosterChange } from './changelog-avro.js'

/** Changes per chunk (held or committed): a chunk of enrollments is about 150 KiB, far below the 1 MiB of a default topic. */
export const CHUNK_CHANGES = 1000

/** A tenant's live committed chunks may hold this many changes per roster record (plus one chunk) before a snapshot replaces them. */
export const SNAPSHOT_FACTOR = 2

export interface ChangelogRecord {
  readonly key: string
  /** null is a tombstone. */
  readonly value: ChangelogValue | null
}

/** The key of a state entry: its parts as a JSON array. */
export function changelogKey(...parts: readonly (string | number)[]): string {
  return JSON.stringify(parts)
}

function chunkCount(changes: number): number {
  return Math.ceil(changes / CHUNK_CHANGES)
}

/** Consecutive runs of at most CHUNK_CHANGES changes. */
function* chunked(changes: Iterable<RosterChange>): Iterable<RosterChange[]> {
  let chunk: RosterChange[] = []
  for (const change of changes) {
    chunk.push(change)
    if (chunk.length === CHUNK_CHANGES) {
      yield chunk
      chunk = []
    }
  }
  if (chunk.length > 0) yield chunk
}

/** The changes of an overlay in a fixed order: entity type, then the order the sync made them. */
function* overlayChanges(overlay: OverlayData): Iterable<RosterChange> {
  for (const entity of ENTITY_TYPES) {
    for (const [sourcedId, record] of overlay.changes[entity] as Map<string, AnyRecord | null>) yield { entity, sourcedId, record }
  }
}

/** A tenant's committed roster as changes that build it, in the order of its tables. */
function* rosterRecords(t: TenantState): Iterable<RosterChange> {
  for (const entity of ENTITY_TYPES) {
    for (const [sourcedId, record] of t.tables[entity] as Map<string, AnyRecord>) yield { entity, sourcedId, record }
  }
}

function rosterSize(t: TenantState | undefined): number {
  let n = 0
  if (t) for (const entity of ENTITY_TYPES) n += t.tables[entity].size
  return n
}

function heldRecords(tenant: string, syncId: string, overlay: OverlayData, out: ChangelogRecord[]): void {
  const chunks = [...chunked(overlayChanges(overlay))]
  const changes = chunks.reduce((n, chunk) => n + chunk.length, 0)
  out.push({ key: changelogKey('h', tenant, syncId), value: { kind: 'held', changes, chunks: chunks.length } })
  chunks.forEach((chunk, index) =>
    out.push({ key: changelogKey('hc', tenant, syncId, index), value: { kind: 'heldChunk', index, changes: chunk } }),
  )
}

/** A tenant's live committed chunks: indexes `first` to `next - 1`, holding `changes` changes in all. */
interface TenantChunks {
  first: number
  next: number
  changes: number
}

/**
 * Where the committed chunks of one changelog partition stand, per tenant: what numbers
 * the next chunk, which chunks a snapshot tombstones. Its counts move as records are
 * made, before their transaction commits: a failed transaction discards it with the
 * state (the processor restores both from the changelog).
 */
export class CommittedChunks {
  private readonly tenants = new Map<string, TenantChunks>()

  private of(tenant: string): TenantChunks {
    let t = this.tenants.get(tenant)
    if (!t) this.tenants.set(tenant, (t = { first: 0, next: 0, changes: 0 }))
    return t
  }

  /** The tenant's live chunks as a restore found them. */
  restored(tenant: string, chunks: TenantChunks): void {
    this.tenants.set(tenant, chunks)
  }

  /**
   * The changelog entries that record `changes`, in order, made against `state` as it is
   * before them (a snapshot writes the roster the changes apply to). Call once per
   * transaction, with every change it commits.
   */
  records(state: ProcessorState, changes: readonly StateChange[]): ChangelogRecord[] {
    const out: ChangelogRecord[] = []
    // A snapshot must come before the transaction's first chunk of the tenant, whose roster it writes.
    const chunkedNow = new Set<string>()
    for (const c of changes) {
      switch (c.kind) {
        case 'sync':
          out.push({ key: changelogKey('s', c.tenant, c.info.syncId), value: { kind: 'sync', info: c.info } })
          break
        case 'opened':
          out.push({ key: changelogKey('o', c.tenant, c.syncId), value: { kind: 'open', inputOffset: c.inputOffset } })
          break
        case 'intake':
          // Restored by reading the input again.
          break
        case 'closed':
          out.push({ key: changelogKey('o', c.tenant, c.syncId), value: null })
          break
        case 'committed': {
          if (!chunkedNow.has(c.tenant)) {
            chunkedNow.add(c.tenant)
            const live = this.of(c.tenant)
            const roster = state.tenants.get(c.tenant)
            if (live.changes > SNAPSHOT_FACTOR * rosterSize(roster) + CHUNK_CHANGES) this.snapshot(c.tenant, roster, out)
          }
          this.append(c.tenant, overlayChanges(c.overlay), out)
          break
        }
        case 'held':
          heldRecords(c.tenant, c.syncId, c.overlay, out)
          break
        case 'released':
          out.push({ key: changelogKey('h', c.tenant, c.syncId), value: null })
          for (let index = 0; index < chunkCount(c.size); index++)
            out.push({ key: changelogKey('hc', c.tenant, c.syncId, index), value: null })
          break
        default: {
          const unknown: never = c
          throw new Error(`unknown state change ${(unknown as { kind?: string }).kind ?? '?'}`)
        }
      }
    }
    return out
  }

  private append(tenant: string, changes: Iterable<RosterChange>, out: ChangelogRecord[]): void {
    const live = this.of(tenant)
    for (const chunk of chunked(changes)) {
      out.push({ key: changelogKey('c', tenant, live.next), value: { kind: 'rosterChunk', changes: chunk } })
      live.next++
      live.changes += chunk.length
    }
  }

  /** The tenant's roster written as new chunks; the chunks before them tombstoned. */
  private snapshot(tenant: string, roster: TenantState | undefined, out: ChangelogRecord[]): void {
    const live = this.of(tenant)
    const [first, next] = [live.first, live.next]
    live.first = next
    live.changes = 0
    if (roster) this.append(tenant, rosterRecords(roster), out)
    for (let index = first; index < next; index++) out.push({ key: changelogKey('c', tenant, index), value: null })
  }
}

/** What encodes a changelog value (an AvroSerde after `register` with the processor-state topic). */
export interface ChangelogEncoder {
  encodeProcessorState(value: unknown): Buffer
}

/** A changelog record as a Kafka message (a kafkajs Message). */
export interface ChangelogMessage {
  readonly key: Buffer
  /** null is a tombstone. */
  readonly value: Buffer | null
  readonly partition: number
}

/** The Kafka messages of changelog `records` in the changelog partition `partition`. */
export function changelogMessages(serde: ChangelogEncoder, records: readonly ChangelogRecord[], partition: number): ChangelogMessage[] {
  const out: ChangelogMessage[] = []
  for (const { key, value } of records) {
    out.push({
      key: Buffer.from(key, 'utf8'),
      value: value === null ? null : serde.encodeProcessorState(changelogValueToAvro(value)),
      partition,
    })
  }
  return out
}

// ---------------------------------------------------------------- restore

/** An open sync whose records are taken in again from the input, after `inputOffset`. */
export interface OpenSync {
  readonly tenant: string
  readonly syncId: string
  readonly inputOffset: string
}

export interface RestoredState {
  readonly state: ProcessorState
  /** The syncs still open, to complete with `takeInAgain`. */
  readonly open: readonly OpenSync[]
  /** Where the committed chunks stand: the processor goes on numbering from there. */
  readonly chunks: CommittedChunks
}

function corrupt(key: string, detail: string): SynclogError {
  return new SynclogError(
    'STATE_CORRUPT',
    `processor-state entry ${JSON.stringify(key)}: ${detail}; ` +
      "if the topic was written by an older synclog, delete it and reset the processor's consumer group on the change-events topic to the earliest offset so the state is rebuilt",
  )
}

type Parsed =
  | { readonly kind: 'c'; readonly tenant: string; readonly index: number }
  | { readonly kind: 's' | 'o' | 'h'; readonly tenant: string; readonly syncId: string }
  | { readonly kind: 'hc'; readonly tenant: string; readonly syncId: string; readonly index: number }

function parseKey(key: string): Parsed {
  let parts: unknown
  try {
    parts = JSON.parse(key)
  } catch {
    throw corrupt(key, 'the key is not a JSON array')
  }
  if (!Array.isArray(parts)) throw corrupt(key, 'the key is not a JSON array')
  const [kind, tenant, a, b] = parts as unknown[]
  const text = (v: unknown): v is string => typeof v === 'string'
  if (kind === 'c' && text(tenant) && Number.isSafeInteger(a) && parts.length === 3) return { kind, tenant, index: a as number }
  if ((kind === 's' || kind === 'o' || kind === 'h') && text(tenant) && text(a) && parts.length === 3) return { kind, tenant, syncId: a }
  if (kind === 'hc' && text(tenant) && text(a) && Number.isSafeInteger(b) && parts.length === 4)
    return { kind, tenant, syncId: a, index: b as number }
  throw corrupt(key, 'not a key of the processor state')
}

function asKind<K extends ChangelogValue['kind']>(key: string, value: ChangelogValue, kind: K): Extract<ChangelogValue, { kind: K }> {
  if (value.kind !== kind) throw corrupt(key, `holds a ${value.kind} value where a ${kind} belongs`)
  return value as Extract<ChangelogValue, { kind: K }>
}

/** The overlay of a held sync from its chunks (indexes rebuilt as the sync built them). */
function heldOverlay(
  t: TenantState,
  key: string,
  header: { changes: number; chunks: number },
  chunks: ReadonlyMap<number, readonly RosterChange[]>,
): OverlayData {
  const overlay = new Overlay(t, emptyOverlay())
  for (let index = 0; index < header.chunks; index++) {
    const changes = chunks.get(index)
    if (!changes) throw corrupt(key, `chunk ${index} of ${header.chunks} is missing`)
    for (const c of changes) {
      if (c.record) overlay.set(c.entity, c.record)
      else overlay.delete(c.entity, c.sourcedId)
    }
  }
  if (overlay.size !== header.changes) throw corrupt(key, `its chunks hold ${overlay.size} changes, the header says ${header.changes}`)
  return overlay.data
}

/**
 * A tenant's live committed chunks as the changes that rebuild its roster, one per chunk
 * in index order (applied one after another, the tables keep the order the processor's
 * had); the indexes must run without a gap.
 */
function committedChanges(tenant: string, byIndex: ReadonlyMap<number, readonly RosterChange[]>, out: StateChange[]): TenantChunks {
  const indexes = [...byIndex.keys()].sort((a, b) => a - b)
  const first = indexes[0] ?? 0
  let changes = 0
  for (const [i, index] of indexes.entries()) {
    if (index !== first + i)
      throw corrupt(
        changelogKey('c', tenant, first + i),
        `chunk ${first + i} is missing (the tenant's chunks run from ${first} to ${indexes.at(-1)})`,
      )
    const overlay = emptyOverlay()
    for (const c of byIndex.get(index)!) (overlay.changes[c.entity] as Map<string, AnyRecord | null>).set(c.sourcedId, c.record)
    out.push({ kind: 'committed', tenant, overlay })
    changes += byIndex.get(index)!.length
  }
  return { first, next: first + indexes.length, changes }
}

/**
 * Rebuilds the state from changelog entries read in offset order, compacted or not
 * (only the latest value of each key counts). Open syncs come back empty: complete
 * them with `takeInAgain` from the input.
 */
export function restoreFromRecords(records: Iterable<ChangelogRecord>): RestoredState {
  // A Map keeps a key where it was first set, as the committed tables do; a deletion forgets it.
  const latest = new Map<string, ChangelogValue>()
  for (const { key, value } of records) {
    if (value === null) latest.delete(key)
    else latest.set(key, value)
  }
  const state = createProcessorState()
  const tenant = (id: string): TenantState => {
    let t = state.tenants.get(id)
    if (!t) state.tenants.set(id, (t = createTenantState(id)))
    return t
  }
  const committed = new Map<string, Map<number, readonly RosterChange[]>>()
  const held: { tenant: string; syncId: string; key: string; header: { changes: number; chunks: number } }[] = []
  const chunks = new Map<string, Map<number, readonly RosterChange[]>>()
  const open: OpenSync[] = []
  const changes: StateChange[] = []
  for (const [key, value] of latest) {
    const k = parseKey(key)
    switch (k.kind) {
      case 'c': {
        let byIndex = committed.get(k.tenant)
        if (!byIndex) committed.set(k.tenant, (byIndex = new Map()))
        byIndex.set(k.index, asKind(key, value, 'rosterChunk').changes)
        break
      }
      case 's':
        changes.push({ kind: 'sync', tenant: k.tenant, info: asKind(key, value, 'sync').info })
        break
      case 'o':
        open.push({ tenant: k.tenant, syncId: k.syncId, inputOffset: asKind(key, value, 'open').inputOffset })
        break
      case 'h':
        held.push({ tenant: k.tenant, syncId: k.syncId, key, header: asKind(key, value, 'held') })
        break
      case 'hc': {
        const syncKey = changelogKey(k.tenant, k.syncId)
        let byIndex = chunks.get(syncKey)
        if (!byIndex) chunks.set(syncKey, (byIndex = new Map()))
        byIndex.set(k.index, asKind(key, value, 'heldChunk').changes)
        break
      }
      default: {
        const unknown: never = k
        throw corrupt(key, `unknown kind ${(unknown as { kind?: string }).kind ?? '?'}`)
      }
    }
  }
  const committedChunks = new CommittedChunks()
  for (const [id, byIndex] of committed) {
    const live = committedChanges(id, byIndex, changes)
    committedChunks.restored(id, live)
  }
  evolve(state, changes)
  const reopened: StateChange[] = []
  for (const h of held) {
    const overlay = heldOverlay(tenant(h.tenant), h.key, h.header, chunks.get(changelogKey(h.tenant, h.syncId)) ?? new Map())
    reopened.push({ kind: 'held', tenant: h.tenant, syncId: h.syncId, overlay })
  }
  for (const o of open) reopened.push({ kind: 'opened', tenant: o.tenant, syncId: o.syncId, inputOffset: o.inputOffset })
  evolve(state, reopened)
  return { state, open, chunks: committedChunks }
}

const afterOffset = (offset: string, from: string): boolean => from !== '' && offset !== '' && BigInt(offset) > BigInt(from)

/**
 * Takes the records of the restored open syncs in again from their input, read in
 * order from the smallest `inputOffset` on: each record event after its sync's start
 * is decided and evolved as the processor did (anything else is in the changelog
 * already and skipped). Returns how many records were taken in.
 */
export function takeInAgain(restored: RestoredState, inputs: Iterable<StepInput>, options: FoldOptions): number {
  const starts = new Map(restored.open.map((o) => [changelogKey(o.tenant, o.syncId), o.inputOffset]))
  let taken = 0
  for (const input of inputs) {
    if (!('event' in input)) continue
    const e = input.event
    if (e.type !== 'RecordChanged' && e.type !== 'RecordUnreadable') continue
    const start = starts.get(changelogKey(e.tenant, e.syncId))
    if (start === undefined || !afterOffset(input.offset, start)) continue
    const result = step(restored.state, [input], options)
    evolve(restored.state, result.changes)
    taken += result.changes.length
  }
  return taken
}

/** The input offset to read from to complete the open syncs, or null when none needs the input. */
export function firstInputOffset(open: readonly OpenSync[]): string | null {
  let first: bigint | null = null
  for (const o of open) {
    if (o.inputOffset === '') continue
    const at = BigInt(o.inputOffset)
    if (first === null || at < first) first = at
  }
  return first === null ? null : String(first)
}
