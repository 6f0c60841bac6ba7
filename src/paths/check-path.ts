/**
 * The paths a user gives (`--data`, `--out`), checked before anything is opened or written, so
 * a bad one is one clear line naming the path and the problem, never a stack trace, a hang or
 * a special file replaced by a regular one.
 *
 * - A data directory or output directory exists as a directory (a symlink to one is followed),
 *   or can be made: its nearest existing parent is a directory.
 * - An output file is a regular file or does not exist yet; a directory, a device, a FIFO, a
 *   socket or a symbolic link in its place is refused (links are never followed nor replaced).
 * - Nothing under /proc, /sys or /dev, nor on another kernel pseudo-filesystem.
 */
import { lstatSync, realpathSync, statSync, statfsSync, type Stats } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { SynclogError } from '../errors.js'
import { terminalText } from '../export/terminal-text.js'

/** Where the kernel shows processes, devices and settings as files: never a place for data. */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev']
/** statfs(2) magic numbers of Linux pseudo-filesystems (proc, sysfs, devpts, cgroup, cgroup2, debugfs, tracefs, securityfs, bpf, pstore, configfs, efivarfs, binfmt_misc, mqueue, fusectl). */
const PSEUDO_FS_TYPES = new Set([
  0x9fa0, 0x62656572, 0x1cd1, 0x27e0eb, 0x63677270, 0x64626720, 0x74726163, 0x73636673, 0xcafe4a11, 0x6165676c, 0x62656570, 0xde5e81e4,
  0x42494e4d, 0x19800202, 0x65735543,
])

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code

/** What a file system entry is, in words. */
export function describeKind(s: Stats): string {
  if (s.isDirectory()) return 'a directory'
  if (s.isFile()) return 'a regular file'
  if (s.isSymbolicLink()) return 'a symbolic link'
  if (s.isCharacterDevice()) return 'a character device'
  if (s.isBlockDevice()) return 'a block device'
  if (s.isFIFO()) return 'a FIFO (named pipe)'
  if (s.isSocket()) return 'a socket'
  return 'a special file'
}

class PathProblem {
  constructor(
    private readonly option: string,
    private readonly given: string,
  ) {}

  error(problem: string): SynclogError {
    return new SynclogError('PATH_UNUSABLE', `${this.option} ${terminalText(this.given)}: ${problem}`)
  }
}

type Found = { readonly exists: true; readonly stats: Stats; readonly link: boolean } | { readonly exists: false; readonly parent: string }

/** The entry at `abs` (a link followed, once it is known to be one), or its nearest existing parent directory. */
function examine(p: PathProblem, abs: string): Found {
  let own: Stats
  try {
    own = lstatSync(abs)
  } catch (e) {
    if (codeOf(e) === 'ENOENT' || codeOf(e) === 'ENOTDIR') return { exists: false, parent: existingParent(p, abs) }
    if (codeOf(e) === 'ELOOP') throw p.error('a symbolic link on the way loops')
    throw p.error(`cannot be read (${(e as Error).message})`)
  }
  if (!own.isSymbolicLink()) return { exists: true, stats: own, link: false }
  try {
    return { exists: true, stats: statSync(abs), link: true }
  } catch (e) {
    if (codeOf(e) === 'ELOOP') throw p.error('is a symbolic link loop')
    if (codeOf(e) === 'ENOENT' || codeOf(e) === 'ENOTDIR') throw p.error('is a symbolic link to a path that does not exist')
    throw p.error(`cannot be read (${(e as Error).message})`)
  }
}

function existingParent(p: PathProblem, abs: string): string {
  for (let dir = dirname(abs); ; dir = dirname(dir)) {
    let found: Stats
    try {
      found = statSync(dir)
    } catch (e) {
      const code = codeOf(e)
      if (code === 'ELOOP') throw p.error(`${terminalText(dir)} is a symbolic link loop`)
      const isLink = (() => {
        try {
          return lstatSync(dir).isSymbolicLink()
        } catch {
          return false
        }
      })()
      if (isLink) throw p.error(`${terminalText(dir)} is a symbolic link to a path that does not exist`)
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(dir) !== dir) continue
      throw p.error(`cannot be read (${(e as Error).message})`)
    }
    if (!found.isDirectory()) throw p.error(`${terminalText(dir)} is ${describeKind(found)}, not a directory`)
    return dir
  }
}

/** Refuses /proc, /sys, /dev and pseudo-filesystems, by where `existing` really is. */
function refusePseudo(p: PathProblem, existing: string): void {
  let real: string
  try {
    real = realpathSync(existing)
  } catch (e) {
    throw p.error(`cannot be read (${(e as Error).message})`)
  }
  const root = PSEUDO_ROOTS.find((r) => real === r || real.startsWith(`${r}/`))
  let pseudo = root !== undefined
  if (!pseudo) {
    try {
      pseudo = PSEUDO_FS_TYPES.has(Number(statfsSync(real).type))
    } catch {
      // statfs is not available everywhere; the roots above still hold.
    }
  }
  if (pseudo) throw p.error(`is on ${root ?? 'a kernel pseudo-filesystem'}, which holds no data; give a path on a disk`)
}

/** `--data`: an existing directory, or one that can be made. Returns it absolute. */
export function checkDataDir(given: string, option = '--data'): string {
  const p = new PathProblem(option, given)
  if (given === '') throw new SynclogError('PATH_UNUSABLE', `${option} is empty; give a directory (it is created if missing)`)
  const abs = resolve(given)
  const found = examine(p, abs)
  if (found.exists && !found.stats.isDirectory())
    throw p.error(`is ${describeKind(found.stats)}, not a directory; give a directory (it is created if missing)`)
  refusePseudo(p, found.exists ? abs : found.parent)
  return abs
}

/** `--out DIR`: an existing directory, or one that can be made. Returns it absolute. */
export function checkOutputDir(given: string, option = '--out', cwd = process.cwd()): string {
  const p = new PathProblem(option, given)
  if (given === '') throw new SynclogError('PATH_UNUSABLE', `${option} is empty; give a directory (it is created if missing)`)
  const abs = resolve(cwd, given)
  const found = examine(p, abs)
  if (found.exists && !found.stats.isDirectory())
    throw p.error(`is ${describeKind(found.stats)}, not a directory; give a directory to write the files into`)
  refusePseudo(p, found.exists ? abs : found.parent)
  return abs
}

/** `--out FILE`: a regular file (replaced) or a new one in a directory that exists or can be made. Returns it absolute (relative to `cwd`). */
export function checkOutputFile(given: string, option = '--out', cwd = process.cwd()): string {
  const p = new PathProblem(option, given)
  if (given === '') throw new SynclogError('PATH_UNUSABLE', `${option} is empty; give a file name`)
  const abs = resolve(cwd, given)
  const found = examine(p, abs)
  if (found.exists) {
    if (found.link) throw p.error('is a symbolic link; synclog never writes through or replaces a link: give the path of the file itself')
    if (found.stats.isDirectory()) throw p.error('is a directory; give a file name')
    if (!found.stats.isFile())
      throw p.error(`is ${describeKind(found.stats)}; give the name of a regular file (without --out the output goes to standard output)`)
  }
  refusePseudo(p, found.exists ? abs : found.parent)
  return abs
}
