/**
 * The two outputs, both streamed: a OneRoster 1.1 CSV bundle (manifest.csv and
 * one file per rostering table, every table bulk) and change events as JSON
 * lines in the shape `synclog ingest` / `publish` read (src/ndjson).
 */
import { rm, writeFile } from 'node:fs/promises'
import { ownValue } from '../dict.js'
import { makeDirectory } from '../paths/make-directory.js'
import { join } from 'node:path'
import { EMPTY_FIELDS, ENTITY_FIELD_NAMES, LIST_FIELDS, type EntityType, type SyncMode } from '../events/change-event.js'
import { ONEROSTER_11_COLUMNS, ROSTER_FILES, manifestCsv, type RosterFile } from '../demo/write-oneroster.js'
import type { Row } from './rows.js'
import { TextSink } from './text-sink.js'

const NEEDS_QUOTES = /[",\r\n]/

function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

/** A row as one CSV line in the file's column order (`drop` leaves off the last n columns: a broken row). */
export function csvLine(file: RosterFile, row: Row, drop = 0): string {
  const columns = ONEROSTER_11_COLUMNS[file]
  let line = ''
  const n = columns.length - drop
  for (let i = 0; i < n; i++) {
    if (i > 0) line += ','
    line += csvField(ownValue(row, columns[i]!) ?? '')
  }
  return `${line}\n`
}

export class CsvBundleWriter {
  private readonly sinks = new Map<RosterFile, TextSink>()
  readonly rows: Record<RosterFile, number> = { orgs: 0, academicSessions: 0, courses: 0, classes: 0, users: 0, enrollments: 0 }

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<CsvBundleWriter> {
    await rm(dir, { recursive: true, force: true })
    await makeDirectory(dir)
    const w = new CsvBundleWriter(dir)
    for (const file of ROSTER_FILES) {
      const sink = new TextSink(join(dir, `${file}.csv`))
      sink.write(`${ONEROSTER_11_COLUMNS[file].join(',')}\n`)
      w.sinks.set(file, sink)
    }
    return w
  }

  row(file: RosterFile, row: Row): void {
    this.sinks.get(file)!.write(csvLine(file, row))
    this.rows[file]++
  }

  /** A row with its last `drop` columns missing (the reader reports it as unreadable). */
  brokenRow(file: RosterFile, row: Row, drop: number): void {
    this.sinks.get(file)!.write(csvLine(file, row, drop))
    this.rows[file]++
  }

  async drain(): Promise<void> {
    for (const sink of this.sinks.values()) await sink.drain()
  }

  get bytes(): number {
    let n = 0
    for (const sink of this.sinks.values()) n += sink.bytes
    return n
  }

  /** Closes the files and writes manifest.csv (every rostering table bulk). */
  async close(): Promise<void> {
    for (const sink of this.sinks.values()) await sink.close()
    await writeFile(join(this.dir, 'manifest.csv'), manifestCsv(Object.fromEntries(ROSTER_FILES.map((f) => [f, 'bulk' as const]))), 'utf8')
  }
}

/** Change-event fields of an entity from a row: blank -> null, list columns split on commas. */
export function fieldsOf(entity: EntityType, row: Row): Record<string, string | null | string[]> {
  const lists = LIST_FIELDS[entity]
  const out: Record<string, string | null | string[]> = {}
  for (const name of ENTITY_FIELD_NAMES[entity]) {
    const value = row[name] ?? ''
    if ((lists as readonly string[]).includes(name))
      out[name] =
        value === ''
          ? []
          : value
              .split(',')
              .map((v) => v.trim())
              .filter((v) => v !== '')
    else out[name] = value === '' ? null : value
  }
  return out
}

/** One sync's change events, appended to a shared NDJSON file. */
export class SyncEventWriter {
  private seq = 0

  constructor(
    private readonly sink: TextSink,
    readonly tenant: string,
    readonly syncId: string,
    readonly app: string,
    /** occurredAt of the first event; each later event is 1 ms later. */
    private readonly startMs: number,
  ) {}

  get events(): number {
    return this.seq
  }

  private meta(): string {
    const n = this.seq++
    return (
      `"eventId":${JSON.stringify(`${this.syncId}:${n}`)},"tenant":${JSON.stringify(this.tenant)},"syncId":${JSON.stringify(this.syncId)},` +
      `"app":${JSON.stringify(this.app)},"occurredAt":"${new Date(this.startMs + n).toISOString()}"`
    )
  }

  start(modes: Partial<Record<EntityType, SyncMode>>): void {
    this.sink.write(`{"type":"SyncStarted",${this.meta()},"modes":${JSON.stringify(modes)}}\n`)
  }

  upsert(entity: EntityType, row: Row, dateLastModified: string | null): void {
    this.record(entity, row.sourcedId ?? '', 'upsert', dateLastModified, fieldsOf(entity, row))
  }

  remove(entity: EntityType, sourcedId: string, dateLastModified: string | null): void {
    this.record(entity, sourcedId, 'delete', dateLastModified, EMPTY_FIELDS[entity])
  }

  private record(entity: EntityType, sourcedId: string, op: 'upsert' | 'delete', dateLastModified: string | null, fields: object): void {
    this.sink.write(
      `{"type":"RecordChanged",${this.meta()},"entity":"${entity}","sourcedId":${JSON.stringify(sourcedId)},"op":"${op}",` +
        `"dateLastModified":${JSON.stringify(dateLastModified)},"fields":${JSON.stringify(fields)},"metadata":{},"source":null}\n`,
    )
  }

  unreadable(entity: EntityType, sourcedId: string | null, field: string, message: string): void {
    this.sink.write(
      `{"type":"RecordUnreadable",${this.meta()},"entity":"${entity}","sourcedId":${JSON.stringify(sourcedId)},` +
        `"field":${JSON.stringify(field)},"message":${JSON.stringify(message)},"source":null}\n`,
    )
  }

  end(): void {
    this.sink.write(`{"type":"SyncEnded",${this.meta()}}\n`)
  }
}
