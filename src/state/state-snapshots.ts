/**
 * Embedded mode keeps the fold's state as one snapshot file per tenant in the
 * data directory (structured clone via v8, written to a temp file and renamed,
 * so a crash leaves the previous snapshot intact). Stream mode keeps it in a
 * compacted changelog topic instead; the fold does not know the difference.
 */
import { mkdir, open, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { deserialize, serialize } from 'node:v8'
import { SynclogError } from '../errors.js'
import { createProcessorState, type ProcessorState, type TenantState } from '../processor/index.js'

const FORMAT = 'synclog-state/1'

interface SnapshotFile {
  readonly format: string
  readonly tenant: TenantState
}

export class StateSnapshots {
  readonly dir: string

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'state')
  }

  private pathOf(tenant: string): string {
    return join(this.dir, `${encodeURIComponent(tenant)}.v8`)
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
        throw new SynclogError('STATE_CORRUPT', `state snapshot ${path} cannot be read (${(e as Error).message}); restore it from a backup or remove it and re-import the last full sync`, { cause: e })
      }
      if (snapshot.format !== FORMAT) throw new SynclogError('STATE_CORRUPT', `state snapshot ${path} has format ${String(snapshot.format)}, expected ${FORMAT}`)
      state.tenants.set(snapshot.tenant.tenant, snapshot.tenant)
    }
    return state
  }

  async save(tenant: TenantState): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const path = this.pathOf(tenant.tenant)
    const tmp = `${path}.tmp`
    const bytes = serialize({ format: FORMAT, tenant } satisfies SnapshotFile)
    await writeFile(tmp, bytes)
    const handle = await open(tmp, 'r')
    await handle.sync()
    await handle.close()
    await rename(tmp, path)
  }
}
