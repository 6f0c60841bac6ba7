/**
 * A bundle as a .zip, read with yauzl: the central directory is read once (entry
 * metadata only) and each file is inflated lazily, as a stream, when asked for.
 *
 * Zips made by compressing a folder hold `export/manifest.csv` rather than
 * `manifest.csv`; when the root has no manifest and exactly one folder has one,
 * that folder is the bundle. macOS resource forks (`__MACOSX/`) are ignored.
 */
import yauzl from 'yauzl'
import { SynclogError } from '../errors.js'
import type { BundleEntry, BundleSource } from './bundle-source.js'

const MANIFEST = 'manifest.csv'

function bundleFolder(names: readonly string[]): string {
  if (names.includes(MANIFEST)) return ''
  const nested = names.filter((n) => n.endsWith(`/${MANIFEST}`))
  return nested.length === 1 ? (nested[0] as string).slice(0, -MANIFEST.length) : ''
}

export async function openZipSource(path: string): Promise<BundleSource> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false })
  try {
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
      zipped.set(name, entry)
      entries.set(name, { name, size: entry.uncompressedSize })
    }
    return {
      kind: 'zip',
      entries,
      async open(name) {
        const entry = zipped.get(name)
        if (!entry) throw new SynclogError('USAGE', `${name} is not a file of the bundle ${path}`)
        return zip.openReadStreamPromise(entry)
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
