/**
 * A OneRoster 1.1/1.2 CSV bundle (folder or .zip) as the change events of one
 * sync: SyncStarted (modes from the manifest), one RecordChanged or
 * RecordUnreadable per row in dependency order, then SyncEnded; or SyncFailed
 * when the bundle cannot be read as a whole. Problems of the input never throw:
 * they become events the fold records. Only a misuse of this function throws.
 *
 * Every id and instant comes from the options and the input, so reading the same
 * bundle twice gives the same events.
 */
import type { ChangeEvent, EntityType, RecordChanged, RecordUnreadable } from '../events/change-event.js'
import { SynclogError } from '../errors.js'
import { openBundleSource, type BundleSource } from './bundle-source.js'
import { planBundle, type BundlePlan, type PlannedFile } from './bundle-plan.js'
import { Columns, type RowValues } from './columns.js'
import { openCsvTable, type CsvItem } from './csv-rows.js'
import type { EntityFile, FieldContext } from './entity-files.js'
import { UserRoles } from './user-roles.js'

export { bundleFingerprint } from './fingerprint.js'

export interface BundleOptions {
  path: string            // a folder or a .zip file
  tenant: string
  syncId: string
  app?: string            // default 'oneroster-csv'
  occurredAt: string      // ISO instant; used as occurredAt of every event of this sync (deterministic)
  onProgress?: (p: { file: string; rows: number; bytes: number; totalBytes: number }) => void
  /** Things worth telling the operator that do not change the events (a file marked absent but present, a version variant...). */
  onIssue?: (issue: BundleIssue) => void
}

export interface BundleIssue { file: string; line: number | null; field: string; message: string }

export const DEFAULT_APP = 'oneroster-csv'
const PROGRESS_EVERY_ROWS = 10_000
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/

type Meta = Pick<ChangeEvent, 'eventId' | 'tenant' | 'syncId' | 'app' | 'occurredAt'>

function checkOptions(opts: BundleOptions): void {
  const usage = (message: string): SynclogError => new SynclogError('USAGE', `readOneRosterBundle: ${message}`)
  if (opts.path === '') throw usage('path is empty')
  if (opts.tenant === '') throw usage('tenant is empty')
  if (opts.syncId === '') throw usage('syncId is empty')
  if (opts.app === '') throw usage('app is empty')
  if (!INSTANT_RE.test(opts.occurredAt) || Number.isNaN(Date.parse(opts.occurredAt))) {
    throw usage(`occurredAt '${opts.occurredAt}' is not an ISO-8601 instant such as 2025-01-31T02:00:00Z`)
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** Byte counting on the way to the parser, for progress. */
async function* counted(chunks: AsyncIterable<Buffer>, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    onBytes(chunk.length)
    yield chunk
  }
}

class ProgressMeter {
  private bytes = 0
  private file = ''
  private rowCount = 0

  constructor(private readonly totalBytes: number, private readonly report: BundleOptions['onProgress']) {}

  start(file: string): void {
    this.file = file
    this.rowCount = 0
    this.emit()
  }

  addBytes = (n: number): void => {
    this.bytes += n
  }

  /** Counts rows read; reports about every PROGRESS_EVERY_ROWS rows. */
  rows(n: number): void {
    const before = Math.floor(this.rowCount / PROGRESS_EVERY_ROWS)
    this.rowCount += n
    if (Math.floor(this.rowCount / PROGRESS_EVERY_ROWS) > before) this.emit()
  }

  end(): void {
    this.emit()
  }

  private emit(): void {
    this.report?.({ file: this.file, rows: this.rowCount, bytes: this.bytes, totalBytes: this.totalBytes })
  }
}

export async function* readOneRosterBundle(opts: BundleOptions): AsyncGenerator<ChangeEvent> {
  checkOptions(opts)
  const { path, tenant, syncId, occurredAt } = opts
  const app = opts.app ?? DEFAULT_APP
  const meta = (eventId: string): Meta => ({ eventId, tenant, syncId, app, occurredAt })
  const note = (issue: BundleIssue): void => opts.onIssue?.(issue)

  let source: BundleSource | null = null
  let plan: BundlePlan | null = null
  let started = false
  let failure: string
  try {
    source = await openBundleSource(path)
    plan = await planBundle(source, note)
    started = true
    yield { type: 'SyncStarted', ...meta(`${syncId}:start`), modes: plan.modes }

    const progress = new ProgressMeter(plan.totalBytes, opts.onProgress)
    const reader = new FileReader(source, meta, syncId, progress, note)
    let roles: UserRoles | null = null
    for (const planned of plan.files) {
      if (planned.spec.entity === 'user' && plan.rolesFile !== null) {
        roles = new UserRoles()
        for await (const batch of reader.roles(plan.rolesFile, roles)) yield* batch
      }
      for await (const batch of reader.records(planned, { roles })) yield* batch
      if (planned.spec.entity === 'user') roles = null
    }
    yield { type: 'SyncEnded', ...meta(`${syncId}:end`) }
    return
  } catch (e) {
    failure = e instanceof SynclogError ? e.message : `cannot read the bundle ${path}: ${messageOf(e)}`
  } finally {
    await source?.close()
  }
  if (!started) yield { type: 'SyncStarted', ...meta(`${syncId}:start`), modes: plan?.modes ?? {} }
  yield { type: 'SyncFailed', ...meta(`${syncId}:failed`), reason: failure }
}

/** Reads the files of a planned bundle into events, in batches (one per chunk read). */
class FileReader {
  constructor(
    private readonly source: BundleSource,
    private readonly meta: (eventId: string) => Meta,
    private readonly syncId: string,
    private readonly progress: ProgressMeter,
    private readonly note: (issue: BundleIssue) => void,
  ) {}

  /** The columns of `file`, then its rows in batches, with progress; a failure while reading names the file. */
  private async *items(file: string): AsyncGenerator<Columns | readonly CsvItem[]> {
    this.progress.start(file)
    try {
      const table = await openCsvTable(file, counted(await this.source.open(file), this.progress.addBytes))
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

  private unreadable(entity: EntityType, file: string, line: number, field: string, message: string, sourcedId: string | null): RecordUnreadable {
    return {
      type: 'RecordUnreadable', ...this.meta(`${this.syncId}:${file}:${line}`), entity, sourcedId, field, message, source: { file, line },
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
          events.push(this.unreadable('user', file, item.line, 'userSourcedId', 'the role has no userSourcedId, so it belongs to no user', null))
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
        events.push(item.kind === 'unreadable'
          ? this.unreadable(spec.entity, file, item.line, item.column, item.message, columns.value(item.values, 'sourcedId'))
          : this.recordChanged(spec, file, item.line, columns.row(item.values), ctx))
      }
      yield events
    }
    if (rows === 0 && mode === 'bulk') {
      this.note({ file, line: null, field: '', message: `${file} has no rows: as a bulk file it says there are no records of this type` })
    }
  }

  private recordChanged<E extends EntityType>(spec: EntityFile<E>, file: string, line: number, r: RowValues, ctx: FieldContext): RecordChanged {
    return {
      type: 'RecordChanged', ...this.meta(`${this.syncId}:${file}:${line}`), entity: spec.entity, sourcedId: r.text('sourcedId') ?? '',
      op: isDelete(r) ? 'delete' : 'upsert', dateLastModified: r.text('dateLastModified'), fields: spec.fields(r, ctx),
      metadata: r.metadata(), source: { file, line },
    } as RecordChanged
  }
}

/** `tobedeleted`, and OneRoster 1.0's `inactive`, which 1.2 says to read the same way. */
function isDelete(r: RowValues): boolean {
  const status = r.text('status')
  return status === 'tobedeleted' || status === 'inactive'
}
