/**
 * One synclog process per data directory (chDB itself allows one process per
 * database directory; the state snapshots need the same). The lock file names
 * the holder so the second process can say who has it.
 *
 * A lock never outlives its process: it is removed on release, and by an exit
 * hook whenever the process exits (process.exit, a fatal error). A process that
 * could not run its hook (SIGKILL, an abort) leaves a lock that the next command
 * takes over, because its pid is gone, or now belongs to a process started at
 * another time (pid reuse, e.g. after a container restart).
 */
import { readFileSync, rmSync } from 'node:fs'
import { link, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { SynclogError } from '../errors.js'
import { makeDirectory } from '../paths/make-directory.js'

interface Holder {
  readonly pid: number
  readonly command: string
  readonly since: string
  readonly host?: string
  /** The process's start time in clock ticks after boot (/proc/<pid>/stat field 22), where there is a /proc. */
  readonly started?: string
}

/** Field 22 of /proc/<pid>/stat, or undefined without /proc (or without the process). */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

function alive(holder: Holder): boolean {
  if (holder.host !== undefined && holder.host !== hostname()) return true // no way to tell from here
  try {
    process.kill(holder.pid, 0)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const started = holder.started === undefined ? undefined : startTicks(holder.pid)
  return started === undefined || started === holder.started
}

/** Lock files this process holds, removed by the exit hook if still there. */
const held = new Set<string>()

function releaseHeldOnExit(): void {
  for (const path of held) {
    try {
      const holder = JSON.parse(readFileSync(path, 'utf8')) as Holder
      if (holder.pid === process.pid) rmSync(path, { force: true })
    } catch {
      // Already gone, or not ours any more.
    }
  }
}

export class DataDirLock {
  private constructor(private readonly path: string) {}

  static async acquire(dataDir: string, command: string): Promise<DataDirLock> {
    await makeDirectory(dataDir)
    const path = join(dataDir, 'synclog.lock')
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await DataDirLock.create(path, command)
        if (held.size === 0) process.on('exit', releaseHeldOnExit)
        held.add(path)
        return new DataDirLock(path)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
        const holder = await readFile(path, 'utf8').then((t) => JSON.parse(t) as Holder).catch(() => undefined)
        if (holder && holder.pid !== process.pid && alive(holder)) {
          throw new SynclogError('DATA_DIR_LOCKED',
            `The data directory ${dataDir} is in use by another synclog process (pid ${holder.pid}, '${holder.command}', since ${holder.since}). ` +
            'Embedded ClickHouse (chDB) allows one process per directory: wait for it to finish, stop it, or use --data to point at another directory.' +
            (holder.host !== undefined && holder.host !== hostname() ? ` It runs on host ${holder.host}; if it no longer does, delete ${path}.` : ''))
        }
        await rm(path, { force: true }) // left behind by a process that died
      }
    }
    throw new SynclogError('DATA_DIR_LOCKED', `cannot lock the data directory ${dataDir}`)
  }

  /** Creates the lock file with its content in one step (a link), so no one ever reads it half-written. */
  private static async create(path: string, command: string): Promise<void> {
    const holder: Holder = { pid: process.pid, command, since: new Date().toISOString(), host: hostname(), started: startTicks(process.pid) }
    const temp = `${path}.${process.pid}.tmp`
    await writeFile(temp, JSON.stringify(holder))
    try {
      await link(temp, path)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'EEXIST') throw e
      // A file system without hard links: create it exclusively, then fill it (a reader may see it empty for a moment).
      await writeFile(path, JSON.stringify(holder), { flag: 'wx' })
    } finally {
      await rm(temp, { force: true })
    }
  }

  async release(): Promise<void> {
    held.delete(this.path)
    await rm(this.path, { force: true })
  }
}
