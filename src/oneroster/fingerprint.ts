/**
 * A bundle's identity for recognising a re-run of the same input: sha256 over its
 * file names and contents, files in name order. The same files give the same
 * fingerprint whether they sit in a folder or in a zip (and however compressed).
 */
import { createHash } from 'node:crypto'
import { SynclogError } from '../errors.js'
import { openBundleSource } from './bundle-source.js'
import type { BundleLimits } from './bundle-limits.js'
import { DEFAULT_LIMITS } from '../config/limits.js'

/** Throws `INPUT_UNREADABLE` when the path is not a readable folder or zip (`INPUT_LIMIT_EXCEEDED` when over a limit). */
export async function bundleFingerprint(path: string, limits: BundleLimits = DEFAULT_LIMITS): Promise<string> {
  const source = await openBundleSource(path, limits)
  try {
    const hash = createHash('sha256')
    const names = [...source.entries.keys()].sort()
    for (const name of names) {
      const size = source.entries.get(name)?.size ?? 0
      hash.update(`${name}\u0000${size}\u0000`)
      for await (const chunk of await source.open(name)) hash.update(chunk)
      hash.update('\u0000')
    }
    return hash.digest('hex')
  } catch (e) {
    if (e instanceof SynclogError) throw e
    throw new SynclogError('INPUT_UNREADABLE', `cannot read the bundle ${path}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    })
  } finally {
    await source.close()
  }
}
