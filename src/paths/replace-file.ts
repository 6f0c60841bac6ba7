/**
 * Files written whole or not at all. `replaceFile` writes a file's content in one go
 * (write-file-atomic), `replaceFileWithChunks` one piece at a time (the state snapshots, too
 * large for one buffer); src/export/atomic-file.ts streams one (exports of any size). All
 * replace only a regular file, or nothing.
 */
import { lstat, open, rename, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { SynclogError } from '../errors.js'
import { terminalText } from '../export/terminal-text.js'
import { describeKind } from './check-path.js'

/**
 * Refuses to replace anything but a regular file: renaming over a symbolic link, a device, a
 * FIFO or a socket would silently swap it for a regular file (and a link may be planted to
 * redirect the output). Missing is fine.
 */
export async function assertReplaceable(path: string): Promise<void> {
  const found = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined
    throw new SynclogError('PATH_UNUSABLE', `cannot write ${terminalText(path)}: ${e.message}`, { cause: e })
  })
  if (found !== undefined && !found.isFile()) {
    throw new SynclogError('PATH_UNUSABLE', `${terminalText(path)} is ${describeKind(found)}; synclog only replaces regular files`)
  }
}

/**
 * Replaces `path` with `data`: a temp file next to it is written, flushed to disk and renamed
 * over it, so a reader (or a crash) sees the old content or the new, never a mix; on failure
 * the temp file is removed. `mode` (0o600 for secrets) holds from the temp file's creation;
 * without it, an existing file keeps its mode. A symbolic link at `path` is refused rather than
 * written through (write-file-atomic would follow it). The directory is synced after the
 * rename, so the new content survives a power cut.
 */
export async function replaceFile(path: string, data: string | Buffer, options: { readonly mode?: number } = {}): Promise<void> {
  await assertReplaceable(path)
  await writeFileAtomic(path, data, options.mode === undefined ? {} : { mode: options.mode })
  await syncDirectory(dirname(path))
}

/**
 * Replaces `path` with the chunks, written one at a time into a temp file next to it, which is
 * flushed to disk and renamed over `path` once complete (as `replaceFile`): only one chunk is
 * in memory at a time. On failure the temp file is removed.
 */
export async function replaceFileWithChunks(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  await assertReplaceable(path)
  const tmp = `${path}.tmp`
  await rm(tmp, { force: true })
  const file = await open(tmp, 'wx')
  try {
    await writeFile(file, chunks)
    await file.sync()
  } catch (e) {
    await file.close().catch(() => undefined)
    await rm(tmp, { force: true })
    throw e
  }
  await file.close()
  await assertReplaceable(path)
  await rename(tmp, path)
  await syncDirectory(dirname(path))
}

/** Makes a rename durable where the platform allows it (not on Windows, where directories cannot be opened). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch {
    // best effort
  } finally {
    await handle?.close().catch(() => undefined)
  }
}
