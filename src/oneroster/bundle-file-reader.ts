/**
 * The rows of one bundle file as change events: RecordChanged for a readable row,
 * RecordUnreadable (with the file, line and column) for one that is not. Events
 * come in batches, one per chunk read, so the caller pays one asynchronous step
 * per chunk rather than per row.
 */
import type { ChangeEvent, EntityType, RecordChanged, RecordUnreadable } from '../events/change-event.js'
import { SynclogError } from '../errors.js'
import type { BundleSource } from './bundle-source.js'
import type { PlannedFile } from './bundle-plan.js'
import { Columns, type RowValues } from './columns.js'
import { openCsvTable, type CsvItem, type CsvLimits } from './csv-rows.js'
import type { EntityFile, FieldContext } from './entity-files.js'
import { counted, type ProgressMeter } from './progress-meter.js'
import type { UserRoles } from './user-roles.js'

/** What every event of one sync carries besides its own id. */
export type SyncMeta = Pick<ChangeEvent, 'tenant' | 'syncId' | 'app' | 'occurredAt'>

export interface FileNote {
  readonly file: string
  readonly line: number | null
  readonly field: string
  readonly message: string
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** Reads the files of a planned bundle into events, in batches (one per chunk read). */
export class BundleFileReader {
  constructor(
    private readonly source: BundleSource,
    private readonly meta: SyncMeta,
    private readonly progress: ProgressMeter,
    private readonly note: (issue: FileNote) => void,
    private readonly limits: CsvLimits,
  ) {}

  /** The columns of `file`, then its rows in batches, with progress; a failure while reading names the file. */
  private async *items(file: string): AsyncGenerator<Columns | readonly CsvItem[]> {
    this.progress.start(file)
    try {
      const table = await openCsvTable(file, counted(await this.source.open(file), this.progress.addBytes), this.limits)
      yield new Columns(file, table.columns)
      for await (const batch of table.rows()) {
        this.progress.rows(batch.length)
        yield batch
      }
    } catch (e) {
      if (e instanceof SynclogError) throw e
      throw new SynclogError('INPUT_UNREADABLE', `cannot read ${file}: ${messageOf(e)}`, { cause: e })
    }
    this.progress.end()
  }

  private unreadable(
    entity: EntityType,
    file: string,
    line: number,
    field: string,
    message: string,
    sourcedId: string | null,
  ): RecordUnreadable {
    const { tenant, syncId, app, occurredAt } = this.meta
    return {
      type: 'RecordUnreadable',
      eventId: `${syncId}:${file}:${line}`,
      tenant,
      syncId,
      app,
      occurredAt,
      entity,
      sourcedId,
      field,
      message,
      source: { file, line },
    }
  }

  /** Fills `roles` from roles.csv; yields only the rows that cannot be used. */
  async *roles(file: string, roles: UserRoles): AsyncGenerator<readonly ChangeEvent[]> {
    let columns: Columns | null = null
    for await (const batch of this.items(file)) {
      if (batch instanceof Columns) {
        columns = batch
        continue
      }
      if (columns === null) continue
      const events: ChangeEvent[] = []
      for (const item of batch) {
        if (item.kind === 'unreadable') {
          events.push(this.unreadable('user', file, item.line, item.column, item.message, columns.value(item.values, 'userSourcedId')))
          continue
        }
        const r = columns.row(item.values)
        if (isDelete(r)) continue
        const user = r.text('userSourcedId')
        if (user === null) {
          events.push(
            this.unreadable('user', file, item.line, 'userSourcedId', 'the role has no userSourcedId, so it belongs to no user', null),
          )
          continue
        }
        roles.add(user, { roleType: r.text('roleType'), role: r.text('role'), orgSourcedId: r.text('orgSourcedId') })
      }
      if (events.length > 0) yield events
    }
    if (roles.users === 0) this.note({ file, line: null, field: '', message: `${file} has no roles, so no user has a role` })
  }

  async *records(planned: PlannedFile, ctx: FieldContext): AsyncGenerator<readonly ChangeEvent[]> {
    const { spec, file, mode } = planned
    let columns: Columns | null = null
    let rows = 0
    for await (const batch of this.items(file)) {
      if (batch instanceof Columns) {
        columns = batch
        continue
      }
      if (columns === null) continue
      rows += batch.length
      const events: ChangeEvent[] = []
      for (const item of batch) {
        events.push(
          item.kind === 'unreadable'
            ? this.unreadable(spec.entity, file, item.line, item.column, item.message, columns.value(item.values, 'sourcedId'))
            : this.recordChanged(spec, file, item.line, columns.row(item.values), ctx),
        )
      }
      yield events
    }
    if (rows === 0 && mode === 'bulk') {
      this.note({ file, line: null, field: '', message: `${file} has no rows: as a bulk file it says there are no records of this type` })
    }
  }

  private recordChanged<E extends EntityType>(
    spec: EntityFile<E>,
    file: string,
    line: number,
    r: RowValues,
    ctx: FieldContext,
  ): RecordChanged {
    // A literal, never a spread: every event of the bundle then has the one shape the fold reads fast.
    const { tenant, syncId, app, occurredAt } = this.meta
    return {
      type: 'RecordChanged',
      eventId: `${syncId}:${file}:${line}`,
      tenant,
      syncId,
      app,
      occurredAt,
      entity: spec.entity,
      sourcedId: r.text('sourcedId') ?? '',
      op: isDelete(r) ? 'delete' : 'upsert',
      dateLastModified: r.text('dateLastModified'),
      fields: spec.fields(r, ctx),
      metadata: r.metadata(),
      source: { file, line },
    } as RecordChanged
  }
}

/** `tobedeleted`, and OneRoster 1.0's `inactive`, which 1.2 says to read the same way. */
function isDelete(r: RowValues): boolean {
  const status = r.text('status')
  return status === 'tobedeleted' || status === 'inactive'
}
