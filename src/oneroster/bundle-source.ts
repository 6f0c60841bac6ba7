/**
 * Where the files of a OneRoster bundle come from: a folder or a .zip. Both give
 * the file names and sizes up front and open one file at a time as a byte stream,
 * so nothing is ever loaded whole.
 */
import { stat } from 'node:fs/promises'
import { SynclogError } from '../errors.js'
import { openFolderSource } from './folder-source.js'
import { openZipSource } from './zip-source.js'
import { DEFAULT_LIMITS } from '../config/limits.js'
import type { BundleLimits } from './bundle-limits.js'

export interface BundleEntry {
  /** File name inside the bundle, e.g. `users.csv`. */
  readonly name: string
  /** Uncompressed size in bytes. */
  readonly size: number
}

export interface BundleSource {
  readonly kind: 'folder' | 'zip'
  /** Files of the bundle by name (sub-folders are not part of a bundle). */
  readonly entries: ReadonlyMap<string, BundleEntry>
  /** The content of one file, streamed. */
  open(name: string): Promise<AsyncIterable<Buffer>>
  close(): Promise<void>
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** Opens a folder or a .zip; an unusable path throws `INPUT_UNREADABLE` naming it, input over a limit `INPUT_LIMIT_EXCEEDED`. */
export async function openBundleSource(path: string, limits: BundleLimits = DEFAULT_LIMITS): Promise<BundleSource> {
  let info
  try {
    info = await stat(path)
  } catch (e) {
    throw new SynclogError('INPUT_UNREADABLE', `cannot open the bundle ${path}: ${describe(e)}`, { cause: e })
  }
  try {
    if (info.isDirectory()) return await openFolderSource(path, limits)
    if (info.isFile()) return await openZipSource(path, limits)
  } catch (e) {
    if (e instanceof SynclogError) throw e
    const what = info.isDirectory() ? 'folder' : 'zip file'
    throw new SynclogError('INPUT_UNREADABLE', `cannot read the bundle ${path} as a ${what}: ${describe(e)}`, { cause: e })
  }
  throw new SynclogError('INPUT_UNREADABLE', `the bundle ${path} is neither a folder nor a file`)
}
