/**
 * The values of the processor-state changelog and their Avro form
 * (`schemas/processor-state.avsc`, registered under `<processor-state topic>-value`).
 *
 * A value is one state entry: a chunk of a tenant's committed roster changes, a
 * sync's bookkeeping, the marker of a sync still open, the header of a sync On Hold or
 * one chunk of its changes. Metadata travels as a list of name/value pairs, not an Avro map: avsc reads
 * a map into a plain object, where a name such as `__proto__` would vanish.
 */
import { ENTITY_TYPES, type EntityType } from '../events/change-event.js'
import { AVRO_NAMESPACE } from '../events/avro.js'
import type { SyncInfo } from '../processor/index.js'
import type { AnyRecord } from '../processor/records.js'
import { ownValue } from '../dict.js'
import { SynclogError } from '../errors.js'

/** One change of a roster (Avro `HeldChange`): the record as a sync leaves it, null when it deletes it. */
export interface RosterChange {
  readonly entity: EntityType
  readonly sourcedId: string
  readonly record: AnyRecord | null
}

export type ChangelogValue =
  /** Committed roster changes, applied in the order of their chunk index. */
  | { readonly kind: 'rosterChunk'; readonly changes: readonly RosterChange[] }
  | { readonly kind: 'sync'; readonly info: SyncInfo }
  /** A sync still open; on restore its records are read again from the input after `inputOffset`. */
  | { readonly kind: 'open'; readonly inputOffset: string }
  /** A sync On Hold: `changes` changes in `chunks` chunk entries. */
  | { readonly kind: 'held'; readonly changes: number; readonly chunks: number }
  | { readonly kind: 'heldChunk'; readonly index: number; readonly changes: readonly RosterChange[] }

const RECORD_NAMES: { readonly [E in EntityType]: string } = {
  org: 'OrgRecord',
  academicSession: 'AcademicSessionRecord',
  course: 'CourseRecord',
  user: 'UserRecord',
  class: 'ClassRecord',
  enrollment: 'EnrollmentRecord',
}
const ENTITY_BY_NAME: ReadonlyMap<string, EntityType> = new Map(ENTITY_TYPES.map((e) => [`${AVRO_NAMESPACE}.${RECORD_NAMES[e]}`, e]))

interface MetadataEntry {
  readonly name: string
  readonly value: string
}

const wrap = (name: string, body: object): Record<string, object> => ({ [`${AVRO_NAMESPACE}.${name}`]: body })

/**
 * The body of a RosterRecord: the one union of the six record types (avsc caches a failed
 * resolution between two records, so no record type may sit in two such unions). Plain in
 * a HeldChange, whose `["null", RosterRecord]` avsc does not wrap.
 */
function rosterRecordToAvro(entity: EntityType, record: AnyRecord): { record: Record<string, object> } {
  const metadata: MetadataEntry[] = Object.entries(record.metadata).map(([name, value]) => ({ name, value }))
  return { record: wrap(RECORD_NAMES[entity], { ...record, metadata }) }
}

/** The plain value avsc encodes with the processor-state schema. */
export function changelogValueToAvro(v: ChangelogValue): unknown {
  switch (v.kind) {
    case 'rosterChunk':
      return { entry: wrap('RosterChunk', { changes: changesToAvro(v.changes) }) }
    case 'sync':
      return { entry: wrap('SyncInfo', { ...v.info }) }
    case 'open':
      return { entry: wrap('OpenSync', { inputOffset: v.inputOffset }) }
    case 'held':
      return { entry: wrap('HeldSync', { changes: v.changes, chunks: v.chunks }) }
    case 'heldChunk':
      return {
        entry: wrap('HeldChunk', { index: v.index, changes: changesToAvro(v.changes) }),
      }
    default: {
      const unknown: never = v
      throw new Error(`unknown changelog value ${(unknown as { kind?: string }).kind ?? '?'}`)
    }
  }
}

type Obj = Readonly<Record<string, unknown>>

function unreadable(detail: string): SynclogError {
  return new SynclogError('DECODE_FAILED', `processor-state entry: ${detail}`)
}

/** A wrapped union value `{ 'synclog.v1.Name': body }` → `[full name, body]`. */
function branch(v: unknown, path: string): readonly [string, Obj] {
  const keys = typeof v === 'object' && v !== null ? Object.keys(v) : []
  const name = keys[0]
  if (keys.length !== 1 || name === undefined) throw unreadable(`${path} is not a wrapped union value`)
  return [name, ownValue(v as Obj, name) as Obj]
}

function changesToAvro(changes: readonly RosterChange[]): object[] {
  return changes.map((c) => ({
    entity: c.entity,
    sourcedId: c.sourcedId,
    record: c.record === null ? null : rosterRecordToAvro(c.entity, c.record),
  }))
}

function recordFromAvro(roster: Obj, path: string): { entity: EntityType; record: AnyRecord } {
  const [name, body] = branch(roster.record, `${path}.record`)
  const entity = ENTITY_BY_NAME.get(name)
  if (entity === undefined) throw unreadable(`${path} is ${name}, not a roster record`)
  // Map keys are data (metadata names): fromEntries defines own properties, so '__proto__' stays an entry.
  const metadata = Object.fromEntries((body.metadata as readonly MetadataEntry[]).map((m) => [m.name, m.value]))
  // avsc has checked every field against the reader schema; the spread makes plain data of its record.
  return { entity, record: { ...body, metadata } as unknown as AnyRecord }
}

function changesFromAvro(changes: readonly Obj[]): RosterChange[] {
  return changes.map((c, i): RosterChange => ({
    entity: c.entity as EntityType,
    sourcedId: c.sourcedId as string,
    record: c.record === null ? null : recordFromAvro(c.record as Obj, `entry.changes[${i}].record`).record,
  }))
}

/** A value decoded with the processor-state schema (avsc has checked its shape) → ChangelogValue. */
export function changelogValueFromAvro(v: unknown): ChangelogValue {
  const [name, body] = branch((v as Obj | null)?.entry, 'entry')
  switch (name) {
    // status, statusOnApproval and decision are strings in Avro, so a newer value still reads.
    case `${AVRO_NAMESPACE}.SyncInfo`:
      return { kind: 'sync', info: { ...body } as unknown as SyncInfo }
    case `${AVRO_NAMESPACE}.OpenSync`:
      return { kind: 'open', inputOffset: body.inputOffset as string }
    case `${AVRO_NAMESPACE}.HeldSync`:
      return { kind: 'held', changes: body.changes as number, chunks: body.chunks as number }
    case `${AVRO_NAMESPACE}.HeldChunk`:
      return { kind: 'heldChunk', index: body.index as number, changes: changesFromAvro(body.changes as readonly Obj[]) }
    case `${AVRO_NAMESPACE}.RosterChunk`:
      return { kind: 'rosterChunk', changes: changesFromAvro(body.changes as readonly Obj[]) }
    // A single RosterRecord entry was written by an older synclog (one entry per record): unknown here.
    default:
      throw unreadable(`entry is ${name}, not a known state entry`)
  }
}
