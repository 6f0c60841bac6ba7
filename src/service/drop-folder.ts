/**
 * The drop folder of `synclog serve --watch DIR`, the way districts deliver nightly
 * exports by SFTP. Each district delivers into a folder of its own, named after its
 * tenant: `DIR/<tenant>/nightly.zip` (or a bundle folder `DIR/<tenant>/nightly/`), so the
 * tenant is where the SFTP server let the file be written. Each entry is imported once,
 * through the service's imports (src/service/import-jobs.ts), then moved to
 * `DIR/<tenant>/done/`, or to `DIR/<tenant>/failed/` with `<name>.reason.txt` beside it.
 *
 * An entry is imported only when it is complete: names ending in `.partial`, `.part`,
 * `.filepart` or `.tmp`, or starting with `.`, are never taken (upload under such a name,
 * then rename), and any other entry must keep its size and modification time (a folder:
 * those of every file in it) for the settle time. fs.watch wakes the scan early; a scan
 * every few seconds finds what it misses. Nothing is followed: a symbolic link (or a
 * device, a FIFO) is moved to failed/ as the link itself; names are only ever joined to
 * the folder they were listed in.
 */
import { watch, type FSWatcher } from 'node:fs'
import { lstat, readdir, rename, stat, writeFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import type { Logger } from '../logging/logger.js'
import { checkTenant } from '../pipeline/import-bundle.js'
import { describeKind } from '../paths/check-path.js'
import { makeDirectory } from '../paths/make-directory.js'
import { SynclogError, isSynclogError } from '../errors.js'
import { DEFAULT_APP } from '../oneroster/read-bundle.js'
import type { ImportJobs, ImportRecord } from './import-jobs.js'

export const DONE_FOLDER = 'done'
export const FAILED_FOLDER = 'failed'
export const REASON_SUFFIX = '.reason.txt'
/** Names an uploader writes under before renaming the file into place: never imported. */
const IN_PROGRESS = /(\.partial|\.part|\.filepart|\.tmp)$/i

export const DEFAULT_SETTLE_SECONDS = 5
/** The scan that finds what fs.watch missed, and sees entries settle. */
const SCAN_MS = 2_000

export interface DropFolderOptions {
  readonly dir: string
  readonly jobs: ImportJobs
  readonly logger: Logger
  /** How long an entry must stay unchanged before it is imported. */
  readonly settleMs: number
}

interface Seen {
  readonly signature: string
  readonly since: number
}

export class DropFolder {
  private readonly seen = new Map<string, Seen>()
  /** Entries handed to the imports and not yet moved. */
  private readonly taken = new Set<string>()
  private readonly watchers = new Map<string, FSWatcher>()
  private readonly warned = new Set<string>()
  private readonly log: Logger
  private timer: NodeJS.Timeout | undefined
  private scanning: Promise<void> = Promise.resolve()
  private rescan = false
  private closed = false

  private constructor(private readonly opts: DropFolderOptions) {
    this.log = opts.logger.child({ component: 'drop-folder' })
  }

  /** Starts watching `dir` (it must be a directory); the first scan runs at once. */
  static async start(opts: DropFolderOptions): Promise<DropFolder> {
    await DropFolder.check(opts.dir)
    const folder = new DropFolder(opts)
    folder.watchDir(opts.dir)
    folder.timer = setInterval(() => folder.wake(), SCAN_MS).unref()
    folder.wake()
    folder.log.info(
      { dir: opts.dir, settleSeconds: opts.settleMs / 1000 },
      'watching the drop folder: <dir>/<tenant>/<bundle>.zip or <dir>/<tenant>/<bundle>/',
    )
    return folder
  }

  /** Throws USAGE unless `dir` is a directory. */
  static async check(dir: string): Promise<void> {
    const info = await stat(dir).catch((e: NodeJS.ErrnoException) => {
      throw new SynclogError('USAGE', `--watch ${dir}: ${e.code === 'ENOENT' ? 'no such directory; create it first' : e.message}`)
    })
    if (!info.isDirectory()) throw new SynclogError('USAGE', `--watch ${dir} is ${describeKind(info)}, not a directory`)
  }

  /** Stops watching; entries already handed over still finish (the imports' close waits for them). */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    for (const w of this.watchers.values()) w.close()
    this.watchers.clear()
    await this.scanning
  }

  private wake(): void {
    if (this.closed) return
    this.rescan = true
    this.scanning = this.scanning.then(async () => {
      while (this.rescan && !this.closed) {
        this.rescan = false
        await this.scan().catch((e: unknown) => this.log.warn({ err: e }, 'scanning the drop folder failed; trying again shortly'))
      }
    })
  }

  private watchDir(dir: string): void {
    if (this.watchers.has(dir)) return
    try {
      const watcher = watch(dir, { persistent: false }, () => this.wake())
      watcher.on('error', () => {
        watcher.close()
        this.watchers.delete(dir)
      })
      this.watchers.set(dir, watcher)
    } catch (e) {
      // A file system without change notices: the periodic scan still finds everything.
      this.log.debug({ err: e }, 'fs.watch is not available here; scanning only')
    }
  }

  private async scan(): Promise<void> {
    const now = Date.now()
    const present = new Set<string>()
    for (const tenantEntry of await readdir(this.opts.dir, { withFileTypes: true })) {
      const tenantDir = join(this.opts.dir, tenantEntry.name)
      if (!tenantEntry.isDirectory()) {
        this.warnOnce(
          tenantDir,
          `the drop folder holds ${tenantEntry.name}, which is not a tenant's folder: deliver into <dir>/<tenant>/; it is left alone`,
        )
        continue
      }
      try {
        checkTenant(tenantEntry.name, "the drop folder's tenant folder")
      } catch (e) {
        this.warnOnce(tenantDir, `${(e as Error).message}; the folder is left alone`)
        continue
      }
      this.watchDir(tenantDir)
      for (const entry of await readdir(tenantDir, { withFileTypes: true })) {
        const { name } = entry
        if (name === DONE_FOLDER || name === FAILED_FOLDER || name.startsWith('.') || IN_PROGRESS.test(name)) continue
        const path = join(tenantDir, name)
        present.add(path)
        if (this.taken.has(path)) continue
        const signature = await signatureOf(path)
        if (signature === undefined) continue
        const before = this.seen.get(path)
        if (before?.signature !== signature) {
          this.seen.set(path, { signature, since: now })
          continue
        }
        if (now - before.since < this.opts.settleMs) continue
        this.seen.delete(path)
        await this.take(tenantEntry.name, tenantDir, name)
      }
    }
    for (const path of this.seen.keys()) if (!present.has(path)) this.seen.delete(path)
  }

  /** Hands a settled entry to the imports, or moves it to failed/ when it cannot be one. */
  private async take(tenant: string, tenantDir: string, name: string): Promise<void> {
    const path = join(tenantDir, name)
    const log = this.log.child({ tenant, entry: name })
    const kind = await lstat(path)
    if (!kind.isDirectory() && !(kind.isFile() && extname(name).toLowerCase() === '.zip')) {
      const what = kind.isFile() ? 'a file that is not a .zip' : describeKind(kind)
      await this.moveAway(
        tenantDir,
        name,
        FAILED_FOLDER,
        `${name} is ${what}; deliver a OneRoster .zip, or a folder holding manifest.csv and the CSV files`,
        log,
      )
      return
    }
    this.taken.add(path)
    try {
      await this.opts.jobs.submit({
        path,
        name,
        tenant,
        app: DEFAULT_APP,
        source: 'drop-folder',
        afterwards: (record, stoppedBeforeStart) => this.finish(tenantDir, name, record, stoppedBeforeStart, log),
      })
    } catch (e) {
      this.taken.delete(path)
      if (!isSynclogError(e)) throw e
      await this.moveAway(tenantDir, name, FAILED_FOLDER, e.message.split(path).join(name), log)
    }
  }

  private async finish(tenantDir: string, name: string, record: ImportRecord, stoppedBeforeStart: boolean, log: Logger): Promise<void> {
    const path = join(tenantDir, name)
    try {
      // Never started (the service stopped): it stays, and is imported on the next start.
      if (stoppedBeforeStart) return
      const status = record.result?.summary.status
      if (record.state === 'failed' || status === 'Failed') {
        const why = record.error ?? record.result?.summary.message ?? 'the import failed'
        await this.moveAway(tenantDir, name, FAILED_FOLDER, `sync ${record.syncId} (${status ?? 'not recorded'}): ${why}`, log)
      } else {
        await this.moveAway(tenantDir, name, DONE_FOLDER, undefined, log)
        log.info({ syncId: record.syncId, status }, 'drop-folder import done; moved to done/')
      }
    } finally {
      this.taken.delete(path)
    }
  }

  /** Moves the entry (the link itself, for a link) into done/ or failed/, with the reason beside it. */
  private async moveAway(tenantDir: string, name: string, folder: string, reason: string | undefined, log: Logger): Promise<void> {
    const target = join(tenantDir, folder)
    await makeDirectory(target)
    const moved = await freeName(target, name)
    await rename(join(tenantDir, name), join(target, moved))
    if (reason === undefined) return
    await writeFile(join(target, `${moved}${REASON_SUFFIX}`), `${name} was not imported.\n${reason}\nAt ${new Date().toISOString()}.\n`, {
      flag: 'wx',
      mode: 0o644,
    })
    log.warn({ reason, movedTo: folder }, 'drop-folder entry not imported; moved to failed/ with a reason file')
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return
    this.warned.add(key)
    this.log.warn(message)
  }
}

/** What changes while an entry is still being written: size and mtime, of every file in a folder. */
async function signatureOf(path: string): Promise<string | undefined> {
  try {
    const info = await lstat(path)
    if (!info.isDirectory()) return `${info.size}:${info.mtimeMs}`
    const parts = [`${info.mtimeMs}`]
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const inner = await lstat(join(path, entry.name))
      parts.push(`${entry.name}:${inner.size}:${inner.mtimeMs}`)
    }
    return parts.join('\n')
  } catch {
    return undefined
  }
}

/** `name`, or `name` with a number before its extension when done/ or failed/ holds one already. */
async function freeName(dir: string, name: string): Promise<string> {
  const taken = new Set(await readdir(dir))
  if (!taken.has(name) && !taken.has(`${name}${REASON_SUFFIX}`)) return name
  const ext = extname(name)
  const stem = name.slice(0, name.length - ext.length)
  for (let n = 2; ; n++) {
    const candidate = `${stem}-${n}${ext}`
    if (!taken.has(candidate) && !taken.has(`${candidate}${REASON_SUFFIX}`)) return candidate
  }
}
