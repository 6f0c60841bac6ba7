/**
 * The roster tables of one tenant and a copy-on-write overlay over them.
 *
 * A sync resolves into an overlay; the committed tables stay untouched until the
 * sync completes (or is approved after a hold), so "before" and "after" views of
 * any section or roster line can both be read, and a rejected sync leaves the
 * state exactly as it was. Everything here is plain data (Maps, Sets, objects).
 */
import { ENTITY_TYPES, type EntityType } from '../events/change-event.js'
import type { AnyRecord, ClassRecord, EnrollmentRecord, RecordMap } from './records.js'

export type Tables = { [E in EntityType]: Map<string, RecordMap[E]> }

const INDEX_SPECS = {
  classesByCourse: { entity: 'class', keys: (r: ClassRecord) => [r.courseSourcedId] },
  classesBySchool: { entity: 'class', keys: (r: ClassRecord) => [r.schoolSourcedId] },
  classesByTerm: { entity: 'class', keys: (r: ClassRecord) => r.termSourcedIds },
  enrollmentsByClass: { entity: 'enrollment', keys: (r: EnrollmentRecord) => [r.classSourcedId] },
  enrollmentsByUser: { entity: 'enrollment', keys: (r: EnrollmentRecord) => [r.userSourcedId] },
} as const

export type IndexName = keyof typeof INDEX_SPECS
export type Indexes = Record<IndexName, Map<string, Set<string>>>
const INDEX_NAMES = Object.keys(INDEX_SPECS) as IndexName[]

function indexKeys(name: IndexName, record: AnyRecord): readonly string[] {
  const spec = INDEX_SPECS[name]
  return (spec.keys as (r: AnyRecord) => readonly string[])(record)
}

function indexesOf(entity: EntityType): IndexName[] {
  return INDEX_NAMES.filter((n) => INDEX_SPECS[n].entity === entity)
}

export function emptyTables(): Tables {
  return { org: new Map(), academicSession: new Map(), course: new Map(), user: new Map(), class: new Map(), enrollment: new Map() }
}

export function emptyIndexes(): Indexes {
  return {
    classesByCourse: new Map(),
    classesBySchool: new Map(),
    classesByTerm: new Map(),
    enrollmentsByClass: new Map(),
    enrollmentsByUser: new Map(),
  }
}

function addToIndexes(indexes: Indexes, entity: EntityType, record: AnyRecord): void {
  for (const name of indexesOf(entity)) {
    for (const key of indexKeys(name, record)) {
      let set = indexes[name].get(key)
      if (!set) indexes[name].set(key, (set = new Set()))
      set.add(record.sourcedId)
    }
  }
}

function removeFromIndexes(indexes: Indexes, entity: EntityType, record: AnyRecord): void {
  for (const name of indexesOf(entity)) {
    for (const key of indexKeys(name, record)) {
      const set = indexes[name].get(key)
      set?.delete(record.sourcedId)
      if (set?.size === 0) indexes[name].delete(key)
    }
  }
}

/** Read access to roster records, committed or as a sync would leave them. */
export interface RosterReader {
  get<E extends EntityType>(entity: E, id: string): RecordMap[E] | undefined
  /** Ids of the records related to `key` by the index (e.g. the enrollments of a class). */
  related(index: IndexName, key: string): string[]
}

/** The committed tables of one tenant. */
export interface RosterTables {
  readonly tables: Tables
  readonly indexes: Indexes
}

export function committedReader(store: RosterTables): RosterReader {
  return {
    get: (entity, id) => store.tables[entity].get(id),
    // Sorted: a state restored from a compacted changelog has its sets in another order.
    related: (index, key) => [...(store.indexes[index].get(key) ?? [])].sort(),
  }
}

/** The changes of one sync: a record per changed id, `null` for a deletion. */
export interface OverlayData {
  readonly changes: { [E in EntityType]: Map<string, RecordMap[E] | null> }
  /** Index entries added by the overlay (removals are filtered on read). */
  readonly indexes: Indexes
}

export function emptyOverlay(): OverlayData {
  return {
    changes: { org: new Map(), academicSession: new Map(), course: new Map(), user: new Map(), class: new Map(), enrollment: new Map() },
    indexes: emptyIndexes(),
  }
}

/** Reads and writes an overlay on top of committed tables. */
export class Overlay implements RosterReader {
  constructor(
    readonly base: RosterTables,
    readonly data: OverlayData,
  ) {}

  get<E extends EntityType>(entity: E, id: string): RecordMap[E] | undefined {
    const changes = this.data.changes[entity] as Map<string, RecordMap[E] | null>
    if (changes.has(id)) return changes.get(id) ?? undefined
    return this.base.tables[entity].get(id) as RecordMap[E] | undefined
  }

  existedBefore(entity: EntityType, id: string): boolean {
    return this.base.tables[entity].has(id)
  }

  related(index: IndexName, key: string): string[] {
    const entity = INDEX_SPECS[index].entity
    const ids = new Set([...(this.base.indexes[index].get(key) ?? []), ...(this.data.indexes[index].get(key) ?? [])])
    const out: string[] = []
    for (const id of ids) {
      const record = this.get(entity, id)
      if (record && indexKeys(index, record).includes(key)) out.push(id)
    }
    return out.sort()
  }

  set<E extends EntityType>(entity: E, record: RecordMap[E]): void {
    ;(this.data.changes[entity] as Map<string, RecordMap[E] | null>).set(record.sourcedId, record)
    addToIndexes(this.data.indexes, entity, record)
  }

  delete(entity: EntityType, id: string): void {
    this.data.changes[entity].set(id, null)
  }

  /** Ids of every record of the type as the sync leaves it. */
  *ids(entity: EntityType): Iterable<string> {
    const changes = this.data.changes[entity]
    for (const id of this.base.tables[entity].keys()) if (!changes.has(id) || changes.get(id)) yield id
    for (const [id, record] of changes) if (record && !this.base.tables[entity].has(id)) yield id
  }

  changedIds(entity: EntityType): Iterable<string> {
    return this.data.changes[entity].keys()
  }

  /** Number of changed records, all types. */
  get size(): number {
    return ENTITY_TYPES.reduce((n, e) => n + this.data.changes[e].size, 0)
  }
}

/** Applies an overlay to the committed tables (the sync completes). */
export function commitOverlay(store: RosterTables, overlay: OverlayData): void {
  for (const entity of ENTITY_TYPES) {
    const table = store.tables[entity] as Map<string, AnyRecord>
    for (const [id, record] of overlay.changes[entity] as Map<string, AnyRecord | null>) {
      const previous = table.get(id)
      if (previous) removeFromIndexes(store.indexes, entity, previous)
      if (record) {
        table.set(id, record)
        addToIndexes(store.indexes, entity, record)
      } else {
        table.delete(id)
      }
    }
  }
}
