/**
 * One synclog process per data directory (chDB itself allows one process per
 * database directory; the state snapshots need the same). The lock file names
 * the holder so the second process can say who has it.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { SynclogError } from '../errors.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export class DataDirLock {
  private constructor(private readonly path: string) {}

  static async acquire(dataDir: string, command: string): Promise<DataDirLock> {
    await mkdir(dataDir, { recursive: true })
    const path = join(dataDir, 'synclog.lock')
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx')
        await handle.writeFile(JSON.stringify({ pid: process.pid, command, since: new Date().toISOString() }))
        await handle.close()
        return new DataDirLock(path)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
        const holder = await readFile(path, 'utf8').then((t) => JSON.parse(t) as { pid: number; command: string; since: string }).catch(() => undefined)
        if (holder && alive(holder.pid) && holder.pid !== process.pid) {
          throw new SynclogError('DATA_DIR_LOCKED',
            `The data directory ${dataDir} is in use by another synclog process (pid ${holder.pid}, '${holder.command}', since ${holder.since}). ` +
            'Embedded ClickHouse (chDB) allows one process per directory: wait for it to finish, stop it, or use --data to point at another directory.')
        }
        await rm(path, { force: true }) // left behind by a process that died
      }
    }
    throw new SynclogError('DATA_DIR_LOCKED', `cannot lock the data directory ${dataDir}`)
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true })
  }
}
