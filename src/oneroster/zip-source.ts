/**
 * A bundle as a .zip, read with yauzl: the central directory is read once (entry
 * metadata only) and each file is inflated lazily, as a stream, when asked for.
 *
 * Zips made by compressing a folder hold `export/manifest.csv` rather than
 * `manifest.csv`; when the root has no manifest and exactly one folder has one,
 * that folder is the bundle. macOS resource forks (`__MACOSX/`) are ignored.
 */
import { stat } from 'node:fs/promises'
import yauzl from 'yauzl'
import { SynclogError } from '../errors.js'
import { formatBytes } from '../config/limits.js'
import type { BundleEntry, BundleSource } from './bundle-source.js'
import { boundedBytes, checkDeclared, checkTotal, overLimit, type BundleLimits } from './bundle-limits.js'

const MANIFEST = 'manifest.csv'

function bundleFolder(names: readonly string[]): string {
  if (names.includes(MANIFEST)) return ''
  const nested = names.filter((n) => n.endsWith(`/${MANIFEST}`))
  return nested.length === 1 ? (nested[0] as string).slice(0, -MANIFEST.length) : ''
}

/**
 * Limits (src/config/limits.ts) are checked on the zip's size and entry count, on
 * the sizes its central directory declares, and on the bytes actually inflated
 * (yauzl's own size check is off so that the error can say what happened).
 */
export async function openZipSource(path: string, limits: BundleLimits): Promise<BundleSource> {
  const { size: zipSize } = await stat(path)
  if (zipSize > limits.zipBytes) {
    throw overLimit(
      `the zip ${path} is ${formatBytes(zipSize)}, more than the limit zipBytes (${formatBytes(limits.zipBytes)})`,
      'zipBytes',
    )
  }
  const zip = await yauzl.openPromise(path, {
    lazyEntries: true,
    autoClose: false,
    decodeStrings: true,
    validateEntrySizes: false,
    strictFileNames: false,
  })
  const where = (name: string): string => `${name} in the zip ${path}`
  try {
    if (zip.entryCount > limits.zipEntries) {
      throw overLimit(
        `the zip ${path} holds ${zip.entryCount} entries, more than the limit zipEntries (${limits.zipEntries})`,
        'zipEntries',
      )
    }
    const all: yauzl.Entry[] = []
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/') || entry.fileName.startsWith('__MACOSX/')) continue
      all.push(entry)
    }
    const folder = bundleFolder(all.map((e) => e.fileName))
    const zipped = new Map<string, yauzl.Entry>()
    const entries = new Map<string, BundleEntry>()
    for (const entry of all) {
      if (!entry.fileName.startsWith(folder)) continue
      const name = entry.fileName.slice(folder.length)
      if (name.includes('/')) continue
      if (zipped.has(name)) throw new SynclogError('INPUT_UNREADABLE', `the zip ${path} holds ${name} more than once`)
      checkDeclared(where, name, entry.uncompressedSize, entry.compressedSize, limits)
      zipped.set(name, entry)
      entries.set(name, { name, size: entry.uncompressedSize })
    }
    checkTotal(
      `the zip ${path}`,
      [...entries.values()].reduce((sum, e) => sum + e.size, 0),
      limits,
    )
    return {
      kind: 'zip',
      entries,
      async open(name) {
        const entry = zipped.get(name)
        if (!entry) throw new SynclogError('USAGE', `${name} is not a file of the bundle ${path}`)
        const stream = await zip.openReadStreamPromise(entry)
        return boundedBytes(stream, where(name), limits, { declared: entry.uncompressedSize, compressed: entry.compressedSize })
      },
      async close() {
        zip.close()
      },
    }
  } catch (e) {
    zip.close()
    throw e
  }
}
