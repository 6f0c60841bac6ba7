import { createWriteStream, type WriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { assertReplaceable } from '../paths/replace-file.js'

/**
 * Writes `path` atomically: `write` fills `${path}.tmp`, which is renamed over `path` only
 * once it is complete and closed. On any failure (of `write` or of the file stream) the temp
 * file is removed and the error rethrown, so readers see either the old file or the whole
 * new one, never a partial one. `write` may end the stream itself (exceljs does); otherwise
 * it is ended here. Only a regular file (or nothing) at `path` is replaced, and the temp file is
 * created afresh (a link planted in its place is removed, never written through).
 */
export async function writeFileAtomically<T>(path: string, write: (out: WriteStream) => Promise<T>): Promise<T> {
  const tmp = `${path}.tmp`
  await assertReplaceable(path)
  await rm(tmp, { force: true })
  const out = createWriteStream(tmp, { flags: 'wx' })
  // A stream error must not leave us waiting on a writer that waits on the stream.
  const failure = new Promise<never>((_, reject) => out.once('error', reject))
  const closed = new Promise<void>((resolve) => out.once('close', resolve))
  failure.catch(() => undefined)
  try {
    const writing = write(out)
    writing.catch(() => undefined)
    const result = await Promise.race([writing, failure])
    if (!out.writableEnded) out.end()
    await Promise.race([closed, failure])
    if (!out.writableFinished) throw new Error(`${tmp} was closed before it was complete`)
    await assertReplaceable(path)
    await rename(tmp, path)
    return result
  } catch (err) {
    out.destroy()
    await closed
    await rm(tmp, { force: true })
    throw err
  }
}
