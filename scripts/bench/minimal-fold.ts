/**
 * The fold stage's baseline: the least work that keeps the same state as synclog's fold
 * and produces the same kinds of output, written the fastest plain way.
 *
 * State: per tenant, a Map per entity type keyed by sourcedId, holding each record's fields
 * as they arrived. A sync's records are compared with the committed record, field by field
 * (lists element by element); each change becomes one action object (created, updated,
 * deleted) and waits with its sync, as a sync that may be held must wait; an unchanged
 * record is only counted and its id remembered. At the end of the sync, every record of an
 * entity sent in full that the sync did not mention is deleted (deletion by absence), the
 * changes are applied, and the sync's counts per entity type come out with its actions.
 *
 * What it leaves out on purpose is what synclog adds on top of that work: validation of
 * fields, holds, section and roster rows, names and schools on every row.
 */
import {
  ENTITY_FIELD_NAMES,
  ENTITY_TYPES,
  LIST_FIELDS,
  type ChangeEvent,
  type EntityType,
  type RecordChanged,
  type SyncModes,
} from '../../src/events/change-event.js'

type FieldValue = string | readonly string[] | null
type Fields = Readonly<Record<string, FieldValue>>

interface StoredRecord {
  readonly dateLastModified: string | null
  readonly fields: Fields
}

type Tables = { readonly [E in EntityType]: Map<string, StoredRecord> }

export type ActionKind = 'created' | 'updated' | 'deleted'

/** One change of the roster, as the sync's output reports it. */
export interface Action {
  readonly kind: ActionKind
  readonly tenant: string
  readonly syncId: string
  readonly entity: EntityType
  readonly sourcedId: string
  /** The first field that changed (updates only). */
  readonly field: string
  readonly date: string
}

/** A change waiting for its sync to end: the new record, or null to delete it. */
interface PendingChange {
  readonly entity: EntityType
  readonly sourcedId: string
  readonly record: StoredRecord | null
}

export interface EntityCounts {
  created: number
  updated: number
  unchanged: number
  deleted: number
  unreadable: number
}

export interface SyncCountsOut {
  readonly tenant: string
  readonly syncId: string
  readonly entity: EntityType
  readonly counts: EntityCounts
}

interface OpenSync {
  readonly syncId: string
  readonly modes: SyncModes
  readonly changes: PendingChange[]
  readonly actions: Action[]
  /** Ids the sync mentioned, per entity type sent in full (for deletion by absence). */
  readonly seen: { readonly [E in EntityType]: Set<string> | null }
  readonly counts: { readonly [E in EntityType]: EntityCounts }
}

interface Tenant {
  readonly tables: Tables
  readonly open: Map<string, OpenSync>
}

const LIST_FIELD_SETS: { readonly [E in EntityType]: ReadonlySet<string> } = {
  org: new Set(LIST_FIELDS.org),
  academicSession: new Set(LIST_FIELDS.academicSession),
  course: new Set(LIST_FIELDS.course),
  user: new Set(LIST_FIELDS.user),
  class: new Set(LIST_FIELDS.class),
  enrollment: new Set(LIST_FIELDS.enrollment),
}

function zeroCounts(): EntityCounts {
  return { created: 0, updated: 0, unchanged: 0, deleted: 0, unreadable: 0 }
}

function sameList(a: FieldValue, b: FieldValue): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return a === b
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The first tracked field whose value differs, or '' when none does. */
function firstChangedField(entity: EntityType, before: Fields, after: Fields): string {
  const lists = LIST_FIELD_SETS[entity]
  for (const name of ENTITY_FIELD_NAMES[entity]) {
    const a = before[name] ?? null
    const b = after[name] ?? null
    if (lists.has(name) ? !sameList(a, b) : a !== b) return name
  }
  return ''
}

export class MinimalFold {
  private readonly tenants = new Map<string, Tenant>()
  /** Everything the fold has emitted: the actions and counts of every ended sync. */
  actions = 0
  countRows = 0

  apply(event: ChangeEvent): void {
    const tenant = this.tenantOf(event.tenant)
    switch (event.type) {
      case 'SyncStarted':
        tenant.open.set(event.syncId, this.openSync(event.syncId, event.modes))
        return
      case 'RecordChanged': {
        const sync = tenant.open.get(event.syncId)
        if (sync !== undefined) this.intake(tenant, sync, event)
        return
      }
      case 'RecordUnreadable': {
        const sync = tenant.open.get(event.syncId)
        if (sync !== undefined) sync.counts[event.entity].unreadable++
        return
      }
      case 'SyncEnded': {
        const sync = tenant.open.get(event.syncId)
        if (sync === undefined) return
        tenant.open.delete(event.syncId)
        this.end(event.tenant, tenant, sync, event.occurredAt)
        return
      }
      default:
        return
    }
  }

  /** Committed records of every tenant. */
  get records(): number {
    let n = 0
    for (const t of this.tenants.values()) for (const entity of ENTITY_TYPES) n += t.tables[entity].size
    return n
  }

  private tenantOf(name: string): Tenant {
    let tenant = this.tenants.get(name)
    if (tenant === undefined) {
      tenant = {
        tables: { org: new Map(), academicSession: new Map(), course: new Map(), user: new Map(), class: new Map(), enrollment: new Map() },
        open: new Map(),
      }
      this.tenants.set(name, tenant)
    }
    return tenant
  }

  private openSync(syncId: string, modes: SyncModes): OpenSync {
    const seen = (e: EntityType): Set<string> | null => (modes[e] === 'full' ? new Set() : null)
    return {
      syncId,
      modes,
      changes: [],
      actions: [],
      seen: {
        org: seen('org'),
        academicSession: seen('academicSession'),
        course: seen('course'),
        user: seen('user'),
        class: seen('class'),
        enrollment: seen('enrollment'),
      },
      counts: {
        org: zeroCounts(),
        academicSession: zeroCounts(),
        course: zeroCounts(),
        user: zeroCounts(),
        class: zeroCounts(),
        enrollment: zeroCounts(),
      },
    }
  }

  private intake(tenant: Tenant, sync: OpenSync, event: RecordChanged): void {
    const { entity, sourcedId } = event
    const counts = sync.counts[entity]
    sync.seen[entity]?.add(sourcedId)
    const before = tenant.tables[entity].get(sourcedId)
    if (event.op === 'delete') {
      if (before === undefined) {
        counts.unchanged++
        return
      }
      counts.deleted++
      sync.changes.push({ entity, sourcedId, record: null })
      sync.actions.push(this.action('deleted', event.tenant, sync.syncId, entity, sourcedId, '', event.occurredAt))
      return
    }
    const fields = event.fields as unknown as Fields
    if (before === undefined) {
      counts.created++
      sync.changes.push({ entity, sourcedId, record: { dateLastModified: event.dateLastModified, fields } })
      sync.actions.push(this.action('created', event.tenant, sync.syncId, entity, sourcedId, '', event.occurredAt))
      return
    }
    const field = firstChangedField(entity, before.fields, fields)
    if (field === '') {
      counts.unchanged++
      return
    }
    counts.updated++
    sync.changes.push({ entity, sourcedId, record: { dateLastModified: event.dateLastModified, fields } })
    sync.actions.push(this.action('updated', event.tenant, sync.syncId, entity, sourcedId, field, event.occurredAt))
  }

  private action(
    kind: ActionKind,
    tenant: string,
    syncId: string,
    entity: EntityType,
    sourcedId: string,
    field: string,
    date: string,
  ): Action {
    return { kind, tenant, syncId, entity, sourcedId, field, date }
  }

  /** Deletion by absence, then the sync's changes applied, then its actions and counts out. */
  private end(tenantName: string, tenant: Tenant, sync: OpenSync, date: string): void {
    for (const entity of ENTITY_TYPES) {
      const seen = sync.seen[entity]
      if (seen === null) continue
      for (const sourcedId of tenant.tables[entity].keys()) {
        if (seen.has(sourcedId)) continue
        sync.counts[entity].deleted++
        sync.changes.push({ entity, sourcedId, record: null })
        sync.actions.push(this.action('deleted', tenantName, sync.syncId, entity, sourcedId, '', date))
      }
    }
    for (const change of sync.changes) {
      const table = tenant.tables[change.entity]
      if (change.record === null) table.delete(change.sourcedId)
      else table.set(change.sourcedId, change.record)
    }
    this.actions += sync.actions.length
    const out: SyncCountsOut[] = []
    for (const entity of ENTITY_TYPES)
      if (sync.modes[entity] !== null) out.push({ tenant: tenantName, syncId: sync.syncId, entity, counts: sync.counts[entity] })
    this.countRows += out.length
  }
}
