/**
 * Lock files that name their holder, so a second process can say who has it: one synclog
 * process per data directory (chDB itself allows one process per database directory; the
 * state snapshots need the same), and one token command at a time on the API token file.
 * Which processes take the data directory's lock, and whether they wait for it, is decided
 * in src/pipeline/open-store.ts.
 *
 * A lock never outlives its process: it is removed on release, and by an exit
 * hook whenever the process exits (process.exit, a fatal error). A process that
 * could not run its hook (SIGKILL, an abort) leaves a lock that the next command
 * takes over, because its pid is gone, or now belongs to a process started at
 * another time (pid reuse, e.g. after a container restart).
 *
 * proper-lockfile was considered: it records no holder (so the message could not name the
 * process and its command) and tells a dead holder only by the lock's age, so after a
 * crash the next command would be refused until the lock went stale.
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

function parseHolder(text: string): Holder | undefined {
  try {
    return JSON.parse(text) as Holder
  } catch {
    return undefined
  }
}

/**
 * Lock files this process holds (or is taking), removed by the exit hook if still there. Within
 * the process one taker at a time: the others wait for `released` (or are refused) before
 * they meet other processes through the file.
 */
const held = new Map<string, { readonly holder: Holder; readonly released: Promise<void> }>()

function releaseHeldOnExit(): void {
  for (const path of held.keys()) {
    try {
      const holder = JSON.parse(readFileSync(path, 'utf8')) as Holder
      if (holder.pid === process.pid) rmSync(path, { force: true })
    } catch {
      // Already gone, or not ours any more.
    }
  }
}

/** How a process waits for a lock another process holds (instead of failing at once). */
export interface LockWait {
  /** The longest wait; then the command fails, naming the holder. */
  readonly timeoutMs: number
  /** Told once, when the lock is found held: who holds it, and how long the command will wait. */
  readonly onWait: (message: string) => void
}

/** How often a waiting process looks again, unless the lock says otherwise. */
const POLL_MS = 500

/** Who holds a lock, for messages: pid, command, since when, and the host when it is another. */
function describe(holder: Holder): string {
  return `pid ${holder.pid}, '${holder.command}', since ${holder.since}${holder.host !== undefined && holder.host !== hostname() ? `, on host ${holder.host}` : ''}`
}

/** What to do when another live process holds the lock: refuse at once, or wait (saying so) and give up after a bound. */
interface WhenHeld {
  /** The error when not waiting; `holder` is the raw record (who it is decides the advice). */
  readonly refused: (holder: Holder) => SynclogError
  readonly wait?: {
    readonly timeoutMs: number
    readonly pollMs?: number
    /** Called once, when the wait starts. */
    readonly onWait?: (holder: Holder) => void
    /** The error once `timeoutMs` has passed. */
    readonly gaveUp: (holder: Holder) => SynclogError
  }
}

/** A lock file naming its holder; see the top of this file. */
export class LockFile {
  private constructor(
    private readonly path: string,
    private readonly released: () => void,
  ) {}

  /** Takes the lock at `path` for `command`. Held by another live process: refused at once, or waited for up to a bound. */
  static async acquire(path: string, command: string, whenHeld: WhenHeld): Promise<LockFile> {
    const { wait } = whenHeld
    const deadline = wait === undefined ? 0 : Date.now() + wait.timeoutMs
    let told = false
    /** Waits a poll interval (or until `released`), or throws when it may not wait (any more). */
    const waitFor = async (holder: Holder, released?: Promise<void>): Promise<void> => {
      if (wait === undefined) throw whenHeld.refused(holder)
      if (Date.now() >= deadline) throw wait.gaveUp(holder)
      if (!told) wait.onWait?.(holder)
      told = true
      const poll = new Promise((resolve) => setTimeout(resolve, Math.min(wait.pollMs ?? POLL_MS, Math.max(0, deadline - Date.now()))))
      await Promise.race(released === undefined ? [poll] : [poll, released])
    }
    for (let mine = held.get(path); mine !== undefined; mine = held.get(path)) await waitFor(mine.holder, mine.released)

    const holder: Holder = {
      pid: process.pid,
      command,
      since: new Date().toISOString(),
      host: hostname(),
      started: startTicks(process.pid),
    }
    let release = (): void => {}
    held.set(path, {
      holder,
      released: new Promise<void>((resolve) => {
        release = resolve
      }),
    })
    if (!process.listeners('exit').includes(releaseHeldOnExit)) process.on('exit', releaseHeldOnExit)
    try {
      for (let staleRemoved = 0; staleRemoved < 2;) {
        try {
          await LockFile.create(path, holder)
          return new LockFile(path, release)
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
          const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
            if (e.code === 'ENOENT') return undefined // released meanwhile: try again
            throw e
          })
          if (text === undefined) continue
          const other = parseHolder(text)
          // Our own pid there is left by an earlier process with the same pid: this process takes it one at a time.
          if (other && other.pid !== process.pid && alive(other)) {
            await waitFor(other)
            continue
          }
          await rm(path, { force: true }) // left behind by a process that died
          staleRemoved++
        }
      }
      throw new SynclogError('DATA_DIR_LOCKED', `cannot take the lock ${path}: it keeps coming back; run the command again`)
    } catch (e) {
      held.delete(path)
      release()
      throw e
    }
  }

  /** Creates the lock file with its content in one step (a link), so no one ever reads it half-written. */
  private static async create(path: string, holder: Holder): Promise<void> {
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
    try {
      await rm(this.path, { force: true })
    } finally {
      held.delete(this.path)
      this.released()
    }
  }
}

/** Why the directory cannot be had now: the holder, what to do, and what else runs instead where there is such a thing. */
function lockedMessage(dataDir: string, path: string, holder: Holder, command: string): string {
  const service = holder.command.startsWith('serve')
  return (
    `The data directory ${dataDir} is in use by another synclog process (${describe(holder)}). ` +
    (service && command.startsWith('run ')
      ? 'It is a synclog service, and the stream services cannot run beside it on the embedded store: stop it and start it again as `synclog serve --stream` to run the processor and projector inside it (the log stays readable while they run).'
      : 'Embedded ClickHouse (chDB) allows one process per directory: wait for it to finish, stop it, or use --data to point at another directory.') +
    (holder.host !== undefined && holder.host !== hostname() ? ` If it no longer runs on host ${holder.host}, delete ${path}.` : '')
  )
}

/**
 * Takes the lock of the data directory for `command`. Held by another live process: fails
 * at once (DATA_DIR_LOCKED), or with `wait` waits for it up to its bound.
 */
export async function acquireDataDirLock(dataDir: string, command: string, wait?: LockWait): Promise<LockFile> {
  await makeDirectory(dataDir)
  const path = join(dataDir, 'synclog.lock')
  const seconds = wait === undefined ? 0 : Math.round(wait.timeoutMs / 1000)
  return LockFile.acquire(path, command, {
    refused: (holder) => new SynclogError('DATA_DIR_LOCKED', lockedMessage(dataDir, path, holder, command)),
    wait: wait && {
      timeoutMs: wait.timeoutMs,
      onWait: (holder) =>
        wait.onWait(
          `the data directory ${dataDir} is in use by another synclog process (${describe(holder)}); waiting for it to finish (at most ${seconds} s)`,
        ),
      gaveUp: (holder) =>
        new SynclogError(
          'DATA_DIR_LOCKED',
          `waited ${seconds} s for the data directory ${dataDir}, and it is still in use by another synclog process (${describe(holder)}); run the command again once that one has finished`,
        ),
    },
  })
}

/**
 * What a process does with the data directory, which decides the lock it takes (lockFor):
 * - `read`: reads the log (log, syncs, summary, report, sql, an export's dry run);
 * - `state`: changes files of the data directory: the state snapshots (import, ingest,
 *   approve, reject, demo) or an export's checkpoint;
 * - `project`: writes the log only, no file of the data directory (the stream projector);
 * - `serve`: the service, which runs everyone's reads and writes (one write at a time).
 */
export type StoreUse = 'read' | 'state' | 'project' | 'serve'

/**
 * - `hold`: take the lock on open and keep it until closed; held by another process, fail at once;
 * - `wait`: the same, but wait for a holder to finish (up to LOCK_WAIT_MS, saying so);
 * - `per-write`: take no lock on open; take it, waiting, around each write that changes the data directory.
 */
export type LockTaking = 'hold' | 'wait' | 'per-write'

/**
 * Embedded, chDB allows one process per directory: every use holds the lock while the store
 * is open (a second process is refused, or its command is sent to the running service). With
 * a ClickHouse server, several processes work at once: only the changes to the data
 * directory's files are serialised, and they wait their turn, as two cron jobs expect.
 */
export function lockFor(mode: 'embedded' | 'server', use: StoreUse): LockTaking {
  if (mode === 'embedded') return 'hold'
  return use === 'state' ? 'wait' : 'per-write'
}

/** How long a command waits for another to release the data directory (server mode) before it gives up. */
export const LOCK_WAIT_MS = 30 * 60_000

/** The data directory's lock as a process that opened the store for some use has it. */
export interface StoreLock {
  /** Runs work that changes files of the data directory under the lock: held already, or taken (waited for) around it. */
  writing<T>(work: () => Promise<T>): Promise<T>
  release(): Promise<void>
}

export async function lockDataDir(
  dataDir: string,
  taking: LockTaking,
  command: string,
  onWait: (message: string) => void,
): Promise<StoreLock> {
  const wait: LockWait = { timeoutMs: LOCK_WAIT_MS, onWait }
  if (taking === 'per-write') {
    return {
      async writing(work) {
        const lock = await acquireDataDirLock(dataDir, command, wait)
        try {
          return await work()
        } finally {
          await lock.release()
        }
      },
      release: async () => {},
    }
  }
  const lock = await acquireDataDirLock(dataDir, command, taking === 'wait' ? wait : undefined)
  return { writing: (work) => work(), release: () => lock.release() }
}
