/**
 * The roster tables of one tenant and a copy-on-write overlay over them.
 *
 * A sync resolves into an overlay; the committed tables stay untouched until the
 * sync completes (or is approved after a hold), so "before" and "after" views of
 * any section or roster line can both be read, and a rejected sync leaves the
 * state exactly as it was. Everything here is plain data (Maps, Sets, arrays, objects).
 */
import { ENTITY_TYPES, type EntityType } from '../events/change-event.js'
import { compactRecord } from './compact-records.js'
import type { AnyRecord, ClassRecord, EnrollmentRecord, RecordMap } from './records.js'
import type { Place } from './views.js'

export type Tables = { [E in EntityType]: Map<string, RecordMap[E]> }

/** Each index: the entity it lists and the key (or keys) a record is listed under. */
const INDEX_SPECS = {
  classesByCourse: { entity: 'class', keys: (r: ClassRecord) => r.courseSourcedId },
  classesBySchool: { entity: 'class', keys: (r: ClassRecord) => r.schoolSourcedId },
  classesByTerm: { entity: 'class', keys: (r: ClassRecord) => r.termSourcedIds },
  enrollmentsByClass: { entity: 'enrollment', keys: (r: EnrollmentRecord) => r.classSourcedId },
  enrollmentsByUser: { entity: 'enrollment', keys: (r: EnrollmentRecord) => r.userSourcedId },
} as const

export type IndexName = keyof typeof INDEX_SPECS
/**
 * The ids listed under one key: an array of exactly its ids while the group is
 * small (an id costs 8 bytes there, about twice that in a Set; most classes have a
 * few dozen enrollments, most users a few), a Set once it grows, so adding to and
 * removing from a term with thousands of classes stays cheap.
 */
export type IdGroup = string[] | Set<string>
export type Indexes = Record<IndexName, Map<string, IdGroup>>
const INDEX_NAMES = Object.keys(INDEX_SPECS) as IndexName[]
/** Ids an array group holds before it becomes a Set. */
const SMALL_GROUP = 32

const INDEXES_OF: { readonly [E in EntityType]: readonly IndexName[] } = {
  org: [],
  academicSession: [],
  course: [],
  user: [],
  class: INDEX_NAMES.filter((n) => INDEX_SPECS[n].entity === 'class'),
  enrollment: INDEX_NAMES.filter((n) => INDEX_SPECS[n].entity === 'enrollment'),
}

function indexKeys(name: IndexName, record: AnyRecord): string | readonly string[] {
  const spec = INDEX_SPECS[name]
  return (spec.keys as (r: AnyRecord) => string | readonly string[])(record)
}

function listedUnder(name: IndexName, record: AnyRecord, key: string): boolean {
  const keys = indexKeys(name, record)
  return typeof keys === 'string' ? keys === key : keys.includes(key)
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

/**
 * The array groups a run of puts into the committed tables (a restore) grew in place, per
 * index: `trimGroups` copies each to exactly its ids once the run is done, one copy per
 * group instead of one per id added. A commit needs no such note (`commitOverlay`).
 */
export type GrownGroups = Map<Map<string, IdGroup>, Set<string>>

/**
 * How an array group takes one more id: `inPlace`, pushed, spare room and all (an
 * overlay, which lives for one sync; a commit, which trims afterwards what it grew); or
 * pushed and noted in `GrownGroups`, to be trimmed to exactly its ids.
 */
type Growth = 'inPlace' | GrownGroups

/** `maybeListed`: false when the id is known not to be listed under `key` yet (no scan of its group then). */
function addId(index: Map<string, IdGroup>, key: string, id: string, growth: Growth, maybeListed: boolean): void {
  const group = index.get(key)
  if (group === undefined) {
    index.set(key, [id])
  } else if (!Array.isArray(group)) {
    group.add(id)
  } else if (maybeListed && group.includes(id)) {
    return
  } else if (group.length >= SMALL_GROUP) {
    index.set(key, new Set(group).add(id))
  } else {
    group.push(id)
    if (growth !== 'inPlace') {
      const keys = growth.get(index)
      if (keys === undefined) growth.set(index, new Set([key]))
      else keys.add(key)
    }
  }
}

/** Copies the array groups of `index` under `keys` to exactly their ids (no spare room in what is kept for long). */
function trimUnder(index: Map<string, IdGroup>, keys: Iterable<string>): void {
  for (const key of keys) {
    const group = index.get(key)
    if (Array.isArray(group)) index.set(key, group.slice())
  }
}

/** Trims each group a run of puts grew. */
export function trimGroups(grown: GrownGroups): void {
  for (const [index, keys] of grown) trimUnder(index, keys)
  grown.clear()
}

function removeId(index: Map<string, IdGroup>, key: string, id: string): void {
  const group = index.get(key)
  if (group === undefined) return
  if (Array.isArray(group)) {
    const at = group.indexOf(id)
    if (at >= 0) group.splice(at, 1)
    if (group.length === 0) index.delete(key)
  } else {
    group.delete(id)
    if (group.size === 0) index.delete(key)
  }
}

/**
 * Lists a record under each of its keys. `unlisted`: its id is listed under none of them
 * (committed tables, once the version it replaces is unlisted), so a single key needs no
 * check; a list of keys may name one key twice, and is checked either way.
 */
function addToIndexes(indexes: Indexes, entity: EntityType, record: AnyRecord, growth: Growth, unlisted: boolean): void {
  for (const name of INDEXES_OF[entity]) {
    const keys = indexKeys(name, record)
    if (typeof keys === 'string') addId(indexes[name], keys, record.sourcedId, growth, !unlisted)
    else for (const key of keys) addId(indexes[name], key, record.sourcedId, growth, true)
  }
}

function removeFromIndexes(indexes: Indexes, entity: EntityType, record: AnyRecord): void {
  for (const name of INDEXES_OF[entity]) {
    const keys = indexKeys(name, record)
    if (typeof keys === 'string') removeId(indexes[name], keys, record.sourcedId)
    else for (const key of keys) removeId(indexes[name], key, record.sourcedId)
  }
}

/** Read access to roster records, committed or as a sync would leave them. */
export interface RosterReader {
  get<E extends EntityType>(entity: E, id: string): RecordMap[E] | undefined
  /** Ids of the records related to `key` by the index (e.g. the enrollments of a class). */
  related(index: IndexName, key: string): string[]
  /** Schools and their districts as already read from this reader (views.ts: placeOf), while its orgs stay as they are. */
  readonly places: Map<string, Place>
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
    places: new Map(),
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
  /** `data.changes` and `base.tables`, held directly: every read goes through both. */
  private readonly changes: OverlayData['changes']
  private readonly tables: Tables
  /** Emptied whenever an org changes. */
  readonly places = new Map<string, Place>()

  constructor(
    readonly base: RosterTables,
    readonly data: OverlayData,
  ) {
    this.changes = data.changes
    this.tables = base.tables
  }

  get<E extends EntityType>(entity: E, id: string): RecordMap[E] | undefined {
    // One lookup in the changes: a changed id maps to its record, or to null once deleted.
    const changed = (this.changes[entity] as Map<string, RecordMap[E] | null>).get(id)
    if (changed !== undefined) return changed ?? undefined
    return this.tables[entity].get(id) as RecordMap[E] | undefined
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
      if (record && listedUnder(index, record, key)) out.push(id)
    }
    return out.sort()
  }

  set<E extends EntityType>(entity: E, record: RecordMap[E]): void {
    ;(this.data.changes[entity] as Map<string, RecordMap[E] | null>).set(record.sourcedId, record)
    addToIndexes(this.data.indexes, entity, record, 'inPlace', false)
    if (entity === 'org') this.places.clear()
  }

  delete(entity: EntityType, id: string): void {
    this.data.changes[entity].set(id, null)
    if (entity === 'org') this.places.clear()
  }

  /** Ids of every record of the type as the sync leaves it. */
  *ids(entity: EntityType): Iterable<string> {
    const changes = this.data.changes[entity]
    for (const id of this.base.tables[entity].keys()) if (changes.get(id) !== null) yield id
    for (const [id, record] of changes) if (record && !this.base.tables[entity].has(id)) yield id
  }

  changedIds(entity: EntityType): Iterable<string> {
    return this.data.changes[entity].keys()
  }

  /** The records the sync changed, with what `get` reads for each: the record, or null once deleted. */
  changed<E extends EntityType>(entity: E): Iterable<[string, RecordMap[E] | null]> {
    return (this.data.changes[entity] as Map<string, RecordMap[E] | null>).entries()
  }

  /** Number of changed records, all types. */
  get size(): number {
    return ENTITY_TYPES.reduce((n, e) => n + this.data.changes[e].size, 0)
  }
}

/**
 * Puts a record into the committed tables in its committed form (compact-records.ts),
 * replacing the version it had: a sync's commit, or a state being restored. A restore
 * notes the index groups it grows in `grown` and calls `trimGroups` once the run of puts
 * is done; a commit grows them `inPlace` and trims them itself.
 */
export function putCommitted<E extends EntityType>(store: RosterTables, entity: E, record: RecordMap[E], grown: Growth): void {
  const table = store.tables[entity] as Map<string, AnyRecord>
  const previous = table.get(record.sourcedId)
  if (previous) removeFromIndexes(store.indexes, entity, previous)
  const committed = compactRecord(store.tables, entity, record, previous)
  table.set(committed.sourcedId, committed)
  // The committed indexes list exactly the committed records: `previous` was just unlisted.
  addToIndexes(store.indexes, entity, committed, grown, true)
}

/**
 * Applies an overlay to the committed tables (the sync completes). Every id the commit
 * adds to an index group belongs to a record the overlay holds, and the overlay's own
 * indexes list it under the same keys, so the groups to trim are found there, not noted
 * at each put.
 */
export function commitOverlay(store: RosterTables, overlay: OverlayData): void {
  for (const entity of ENTITY_TYPES) {
    const table = store.tables[entity] as Map<string, AnyRecord>
    for (const [id, record] of overlay.changes[entity] as Map<string, AnyRecord | null>) {
      if (record) {
        putCommitted(store, entity, record, 'inPlace')
      } else {
        const previous = table.get(id)
        if (previous) removeFromIndexes(store.indexes, entity, previous)
        table.delete(id)
      }
    }
  }
  for (const name of INDEX_NAMES) trimUnder(store.indexes[name], overlay.indexes[name].keys())
}
