/**
 * Embedded mode keeps the fold's state as one snapshot file per tenant in the
 * data directory (written to a temp file and renamed, so a crash leaves the
 * previous snapshot intact). Stream mode keeps it in a compacted changelog
 * topic instead; the fold does not know the difference.
 *
 * A snapshot (format `synclog-state/2`) is the line `synclog-state/2\n`, then
 * frames, each a 4-byte big-endian length and a v8 structured-clone value: first
 * the tenant without its roster (`SnapshotHead`: syncs, open syncs, holds), then
 * the committed records, at most RECORDS_PER_FRAME per frame (`RecordFrame`),
 * entity types in the order parents come first, then a last frame counting them
 * (`SnapshotEnd`). A state-sized tenant holds millions of records: no single
 * buffer or string holds them all (V8 caps a string at 512 MiB), and a restore
 * puts each record into the tables as a commit does, with its strings shared and
 * its indexes rebuilt. A `synclog-state/1` file (one structured clone of the whole
 * tenant, as older versions wrote) is still read, and saved as version 2 next time.
 */
import { open, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { deserialize, serialize } from 'node:v8'
import { ENTITY_TYPES, type EntityType } from '../events/change-event.js'
import { SynclogError } from '../errors.js'
import { createProcessorState, createTenantState, type ProcessorState, type TenantState } from '../processor/index.js'
import { restoredPendingSync } from '../processor/pending-sync.js'
import type { AnyRecord } from '../processor/records.js'
import { putCommitted, trimGroups, type GrownGroups } from '../processor/roster-store.js'
import { makeDirectory } from '../paths/make-directory.js'
import { replaceFileWithChunks } from '../paths/replace-file.js'

const FORMAT = 'synclog-state/2'
const MAGIC = Buffer.from(`${FORMAT}\n`, 'utf8')
/** What older versions wrote: one structured clone of `{ format, tenant }`. */
const FORMAT_1 = 'synclog-state/1'
/** Longest URL-encoded tenant id used as a file name (file systems allow 255 bytes). */
const MAX_READABLE_NAME = 200
/** Records per frame: a few MB each. */
const RECORDS_PER_FRAME = 10_000

type SnapshotHead = Pick<TenantState, 'tenant' | 'syncs' | 'pending' | 'held'>

interface RecordFrame {
  readonly entity: EntityType
  readonly records: readonly AnyRecord[]
}

interface SnapshotEnd {
  readonly records: number
}

interface SnapshotFile1 {
  readonly format: string
  readonly tenant: TenantState
}

/** One frame: the value's length, then the value. */
function* framed(value: unknown): Iterable<Buffer> {
  const body = serialize(value)
  const length = Buffer.alloc(4)
  length.writeUInt32BE(body.length)
  yield length
  yield body
}

/** The frames of a tenant's snapshot, made one at a time as they are written. */
function* snapshotFrames(t: TenantState): Iterable<Buffer> {
  yield MAGIC
  yield* framed({ tenant: t.tenant, syncs: t.syncs, pending: t.pending, held: t.held } satisfies SnapshotHead)
  let count = 0
  for (const entity of ENTITY_TYPES) {
    let records: AnyRecord[] = []
    for (const record of t.tables[entity].values()) {
      records.push(record)
      if (records.length === RECORDS_PER_FRAME) {
        yield* framed({ entity, records } satisfies RecordFrame)
        count += records.length
        records = []
      }
    }
    if (records.length > 0) yield* framed({ entity, records } satisfies RecordFrame)
    count += records.length
  }
  yield* framed({ records: count } satisfies SnapshotEnd)
}

/** A tenant with the syncs, open syncs and holds of `head`, and empty roster tables to put its records into. */
function tenantWithoutRoster(head: SnapshotHead): TenantState {
  const t = createTenantState(head.tenant)
  for (const [id, info] of head.syncs) t.syncs.set(id, info)
  for (const [id, sync] of head.pending) t.pending.set(id, restoredPendingSync(sync))
  for (const [id, overlay] of head.held) t.held.set(id, overlay)
  return t
}

/** Reads a version 2 snapshot frame by frame. */
async function readSnapshot2(path: string): Promise<TenantState> {
  const file = await open(path, 'r')
  try {
    let position = MAGIC.length
    const read = async (length: number): Promise<Buffer | null> => {
      const out = Buffer.allocUnsafe(length)
      let filled = 0
      while (filled < length) {
        const { bytesRead } = await file.read(out, filled, length - filled, position + filled)
        if (bytesRead === 0) break
        filled += bytesRead
      }
      if (filled === 0) return null
      if (filled < length) throw new Error('the file ends inside a frame')
      position += length
      return out
    }
    const next = async (): Promise<unknown> => {
      const length = await read(4)
      if (length === null) throw new Error('the file ends before its last frame')
      return deserialize((await read(length.readUInt32BE(0))) ?? Buffer.alloc(0))
    }
    const t = tenantWithoutRoster((await next()) as SnapshotHead)
    const grown: GrownGroups = new Map()
    let count = 0
    for (;;) {
      const value = (await next()) as RecordFrame | SnapshotEnd
      if (!('entity' in value)) {
        if (value.records !== count) throw new Error(`it holds ${count} records, its last frame says ${value.records}`)
        trimGroups(grown)
        return t
      }
      for (const record of value.records) putCommitted(t, value.entity, record, grown)
      count += value.records.length
    }
  } finally {
    await file.close()
  }
}

/** Reads a version 1 snapshot: the whole tenant, its records then put into fresh tables as a restore does. */
async function readSnapshot1(path: string): Promise<TenantState> {
  const snapshot = deserialize(await readFile(path)) as SnapshotFile1
  if (snapshot.format !== FORMAT_1) throw new Error(`it has format ${String(snapshot.format)}, expected ${FORMAT} or ${FORMAT_1}`)
  const old = snapshot.tenant
  const t = tenantWithoutRoster(old)
  const grown: GrownGroups = new Map()
  for (const entity of ENTITY_TYPES) for (const record of old.tables[entity].values()) putCommitted(t, entity, record, grown)
  trimGroups(grown)
  return t
}

async function startsWithMagic(path: string): Promise<boolean> {
  const file = await open(path, 'r')
  try {
    const start = Buffer.alloc(MAGIC.length)
    const { bytesRead } = await file.read(start, 0, MAGIC.length, 0)
    return bytesRead === MAGIC.length && start.equals(MAGIC)
  } finally {
    await file.close()
  }
}

export class StateSnapshots {
  readonly dir: string

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'state')
  }

  /**
   * The tenant id is opaque: any characters, any length. Short ids keep their
   * readable, URL-encoded name; one too long for a file name is named by its hash
   * after a '+', which URL encoding never leaves, so no tenant id can take
   * another's file (the snapshot itself says which tenant it holds).
   */
  private pathOf(tenant: string): string {
    const encoded = encodeURIComponent(tenant)
    const name = encoded.length <= MAX_READABLE_NAME ? encoded : `+sha256-${createHash('sha256').update(tenant).digest('hex')}`
    return join(this.dir, `${name}.v8`)
  }

  /** Loads every tenant's snapshot found in the directory. */
  async loadAll(): Promise<ProcessorState> {
    const state = createProcessorState()
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch {
      return state
    }
    for (const name of names.filter((n) => n.endsWith('.v8'))) {
      const path = join(this.dir, name)
      let tenant: TenantState
      try {
        tenant = (await startsWithMagic(path)) ? await readSnapshot2(path) : await readSnapshot1(path)
      } catch (e) {
        throw new SynclogError(
          'STATE_CORRUPT',
          `state snapshot ${path} cannot be read (${(e as Error).message}); restore it from a backup or remove it and re-import the last full sync`,
          { cause: e },
        )
      }
      state.tenants.set(tenant.tenant, tenant)
    }
    return state
  }

  async save(tenant: TenantState): Promise<void> {
    await makeDirectory(this.dir)
    await replaceFileWithChunks(this.pathOf(tenant.tenant), snapshotFrames(tenant))
  }
}
