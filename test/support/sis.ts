/**
 * Given/when/then for the fold: a tiny SIS that publishes syncs of change events,
 * and a runner that folds them and hands back what a reviewer would see.
 */
import { EMPTY_FIELDS, type ChangeEvent, type EntityFieldsMap, type EntityType, type SyncMode } from '../../src/events/change-event.js'
import type { LogRow, OutcomeCounts, SyncCounts, SyncLogEvent, SyncStatusChanged } from '../../src/events/sync-log-event.js'
import { applyEvent, createProcessorState, type FoldOptions, type ProcessorState } from '../../src/processor/index.js'
import { DEFAULT_FOLD_OPTIONS } from '../../src/processor/fold.js'

type Fields<E extends EntityType> = Partial<{ -readonly [K in keyof EntityFieldsMap[E]]: EntityFieldsMap[E][K] }>

export class SyncScript {
  readonly events: ChangeEvent[] = []
  private n = 0
  constructor(
    readonly tenant: string,
    readonly syncId: string,
    readonly app: string,
    readonly at: string,
    modes: Partial<Record<EntityType, SyncMode>>,
  ) {
    this.events.push({ type: 'SyncStarted', eventId: `${syncId}:start`, tenant, syncId, app, occurredAt: at, modes })
  }

  private meta() {
    return { eventId: `${this.syncId}:${++this.n}`, tenant: this.tenant, syncId: this.syncId, app: this.app, occurredAt: this.at }
  }

  upsert<E extends EntityType>(
    entity: E,
    sourcedId: string,
    fields: Fields<E>,
    extra: { dateLastModified?: string; metadata?: Record<string, string> } = {},
  ): this {
    this.events.push({
      type: 'RecordChanged',
      ...this.meta(),
      entity,
      sourcedId,
      op: 'upsert',
      dateLastModified: extra.dateLastModified ?? null,
      fields: { ...EMPTY_FIELDS[entity], ...fields },
      metadata: extra.metadata ?? {},
      source: null,
    } as ChangeEvent)
    return this
  }

  delete(entity: EntityType, sourcedId: string, dateLastModified: string | null = null): this {
    this.events.push({
      type: 'RecordChanged',
      ...this.meta(),
      entity,
      sourcedId,
      op: 'delete',
      dateLastModified,
      fields: EMPTY_FIELDS[entity],
      metadata: {},
      source: null,
    } as ChangeEvent)
    return this
  }

  unreadable(entity: EntityType, field: string, message: string): this {
    this.events.push({
      type: 'RecordUnreadable',
      ...this.meta(),
      entity,
      sourcedId: null,
      field,
      message,
      source: { file: `${entity}s.csv`, line: 7 },
    })
    return this
  }

  end(): ChangeEvent[] {
    return [
      ...this.events,
      { type: 'SyncEnded', eventId: `${this.syncId}:end`, tenant: this.tenant, syncId: this.syncId, app: this.app, occurredAt: this.at },
    ]
  }
}

/** Adds a district with one school, a term, a course, a section with its teacher and students. */
export function smallDistrict(s: SyncScript, opts: { students?: number } = {}): SyncScript {
  s.upsert('org', 'd1', { name: 'Emerson Unified', type: 'district' })
    .upsert('org', 'sch1', { name: 'Fremont High', type: 'school', parentSourcedId: 'd1' })
    .upsert('academicSession', 't1', {
      title: 'Fall 2024',
      type: 'semester',
      startDate: '2024-08-15',
      endDate: '2025-01-15',
      schoolYear: '2025',
    })
    .upsert('course', 'c1', { title: 'English', courseCode: '0001', orgSourcedId: 'sch1' })
    .upsert('user', 'tch1', teacher('James', 'Staff', 'sch1'))
    .upsert('class', 'k1', section('c1', 'sch1', '101'))
    .upsert('enrollment', 'e-tch1', {
      classSourcedId: 'k1',
      schoolSourcedId: 'sch1',
      userSourcedId: 'tch1',
      role: 'teacher',
      primary: 'true',
    })
  for (let i = 1; i <= (opts.students ?? 2); i++) {
    s.upsert('user', `stu${i}`, student(`Student${i}`, 'Smith', 'sch1', `S00${i}`))
    s.upsert('enrollment', `e-stu${i}`, {
      classSourcedId: 'k1',
      schoolSourcedId: 'sch1',
      userSourcedId: `stu${i}`,
      role: 'student',
      beginDate: '2024-08-15',
      endDate: '2025-01-15',
    })
  }
  return s
}

export const teacher = (given: string, family: string, school: string): Fields<'user'> => ({
  enabledUser: 'true',
  orgSourcedIds: [school],
  role: 'teacher',
  username: `${given}.${family}`.toLowerCase(),
  givenName: given,
  familyName: family,
  email: `${given}.${family}@emerson.example`.toLowerCase(),
})

export const student = (given: string, family: string, school: string, number: string): Fields<'user'> => ({
  enabledUser: 'true',
  orgSourcedIds: [school],
  role: 'student',
  username: `${given}${family}`.toLowerCase(),
  givenName: given,
  familyName: family,
  identifier: number,
  grades: ['09'],
})

export const section = (course: string, school: string, code: string, extra: Fields<'class'> = {}): Fields<'class'> => ({
  title: `Section ${code}`,
  courseSourcedId: course,
  classCode: code,
  classType: 'scheduled',
  location: 'Room 12',
  schoolSourcedId: school,
  termSourcedIds: ['t1'],
  periods: ['1'],
  ...extra,
})

export const FULL: Partial<Record<EntityType, SyncMode>> = {
  org: 'full',
  academicSession: 'full',
  course: 'full',
  user: 'full',
  class: 'full',
  enrollment: 'full',
}
export const DELTA: Partial<Record<EntityType, SyncMode>> = {
  org: 'delta',
  academicSession: 'delta',
  course: 'delta',
  user: 'delta',
  class: 'delta',
  enrollment: 'delta',
}

/** What the fold produced for the events of one `when`. */
export class Outcome {
  constructor(
    readonly events: SyncLogEvent[],
    readonly rejections: string[],
  ) {}

  get rows(): LogRow[] {
    return this.events.filter((e): e is LogRow => e.kind === 'LogRow')
  }
  rowsWith(action: string): LogRow[] {
    return this.rows.filter((r) => r.action === action)
  }
  get status(): SyncStatusChanged | undefined {
    return this.events.filter((e): e is SyncStatusChanged => e.kind === 'SyncStatusChanged').at(-1)
  }
  /** Counts of one entity type, summed over schools. */
  counts(entity: EntityType): OutcomeCounts {
    const sum: Record<string, number> = {}
    for (const c of this.events.filter((e): e is SyncCounts => e.kind === 'SyncCounts' && e.entity === entity)) {
      for (const [k, v] of Object.entries(c.counts)) sum[k] = (sum[k] ?? 0) + v
    }
    return { total: 0, new: 0, updated: 0, noChange: 0, deleted: 0, skipped: 0, invalid: 0, duplicates: 0, merged: 0, excluded: 0, ...sum }
  }
}

export class Given {
  readonly state: ProcessorState = createProcessorState()
  constructor(readonly options: FoldOptions = DEFAULT_FOLD_OPTIONS) {}

  /** Folds the events and returns what they produced. */
  when(events: readonly ChangeEvent[]): Outcome {
    const out: SyncLogEvent[] = []
    const rejections: string[] = []
    for (const e of events) {
      const r = applyEvent(this.state, e, this.options)
      out.push(...r.events)
      if (r.rejected) rejections.push(r.rejected)
    }
    return new Outcome(out, rejections)
  }
}

let clock = 0
/** A new sync of `district-a`, a day after the previous one. */
export function sync(modes: Partial<Record<EntityType, SyncMode>> = FULL, syncId?: string): SyncScript {
  clock += 1
  const day = String((clock % 28) + 1).padStart(2, '0')
  return new SyncScript('district-a', syncId ?? `sync-${clock}`, 'sis-nightly', `2024-10-${day}T02:00:00.000Z`, modes)
}
