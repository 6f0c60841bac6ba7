/**
 * `mkdir -p` that always ends. Node's `mkdir(path, { recursive: true })` spins at 100 % CPU for
 * ever when a directory exists but refuses a child with ENOENT (anything under /proc/self, a
 * dangling symlink on the way): it takes ENOENT for "parent missing", finds the parent there
 * (EEXIST) and retries the child, again and again. Here the missing part is found first, then
 * each directory is made once, so a refusal is final and reported.
 */
import { mkdir, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { SynclogError } from '../errors.js'
import { terminalText } from '../export/terminal-text.js'

const codeOf = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code

function cannotCreate(dir: string, reason: string, cause?: unknown): SynclogError {
  return new SynclogError('PATH_UNUSABLE', `cannot create the directory ${terminalText(dir)}: ${reason}`, { cause })
}

/** Makes `path` and its missing parents; a path that exists must be a directory (or a link to one). */
export async function makeDirectory(path: string): Promise<void> {
  const missing: string[] = []
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      const found = await stat(dir)
      if (!found.isDirectory()) throw cannotCreate(path, `${terminalText(dir)} exists and is not a directory`)
      break
    } catch (e) {
      if (e instanceof SynclogError) throw e
      if (codeOf(e) !== 'ENOENT' || dirname(dir) === dir) throw cannotCreate(path, (e as Error).message, e)
      missing.unshift(dir)
    }
  }
  for (const dir of missing) {
    try {
      await mkdir(dir)
    } catch (e) {
      // Made meanwhile by someone else: fine if it is a directory now.
      if (
        codeOf(e) === 'EEXIST' &&
        (await stat(dir).then(
          (s) => s.isDirectory(),
          () => false,
        ))
      )
        continue
      throw cannotCreate(path, (e as Error).message, e)
    }
  }
}
