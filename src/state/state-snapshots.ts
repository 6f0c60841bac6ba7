/**
 * Embedded mode keeps the fold's state as one snapshot file per tenant in the
 * data directory (structured clone via v8, written to a temp file and renamed,
 * so a crash leaves the previous snapshot intact). Stream mode keeps it in a
 * compacted changelog topic instead; the fold does not know the difference.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { deserialize, serialize } from 'node:v8'
import { SynclogError } from '../errors.js'
import { createProcessorState, type ProcessorState, type TenantState } from '../processor/index.js'
import { makeDirectory } from '../paths/make-directory.js'
import { replaceFile } from '../paths/replace-file.js'

const FORMAT = 'synclog-state/1'
/** Longest URL-encoded tenant id used as a file name (file systems allow 255 bytes). */
const MAX_READABLE_NAME = 200

interface SnapshotFile {
  readonly format: string
  readonly tenant: TenantState
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
      let snapshot: SnapshotFile
      try {
        snapshot = deserialize(await readFile(path)) as SnapshotFile
      } catch (e) {
        throw new SynclogError(
          'STATE_CORRUPT',
          `state snapshot ${path} cannot be read (${(e as Error).message}); restore it from a backup or remove it and re-import the last full sync`,
          { cause: e },
        )
      }
      if (snapshot.format !== FORMAT)
        throw new SynclogError('STATE_CORRUPT', `state snapshot ${path} has format ${String(snapshot.format)}, expected ${FORMAT}`)
      state.tenants.set(snapshot.tenant.tenant, snapshot.tenant)
    }
    return state
  }

  async save(tenant: TenantState): Promise<void> {
    await makeDirectory(this.dir)
    await replaceFile(this.pathOf(tenant.tenant), serialize({ format: FORMAT, tenant } satisfies SnapshotFile))
  }
}
