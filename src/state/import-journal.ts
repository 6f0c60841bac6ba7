/**
 * Remembers the import in progress, so that re-running the same input after a
 * crash reuses its sync id and times (when it was accepted, and when its bundle
 * had been read): the fold then reproduces the same rows, and the store's
 * deduplication keeps one copy of each.
 */
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { syncIdFor } from '../oneroster/sync-identity.js'
import { makeDirectory } from '../paths/make-directory.js'
import { replaceFile } from '../paths/replace-file.js'

export interface ImportIntent {
  readonly tenant: string
  readonly app: string
  readonly fingerprint: string
  readonly syncId: string
  /** When the import was accepted: the sync's start, and the time of its records. */
  readonly occurredAt: string
  /** When the whole bundle had been read: the sync's end (absent until then). */
  readonly endedAt?: string
}

export class ImportJournal {
  private readonly path: string

  constructor(private readonly dataDir: string) {
    this.path = join(dataDir, 'import-in-progress.json')
  }

  async pending(): Promise<ImportIntent | undefined> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as ImportIntent
    } catch {
      return undefined
    }
  }

  /** The intent for this input: the crashed one if it is the same input, else a new one. */
  async begin(input: Omit<ImportIntent, 'syncId' | 'occurredAt'>, now: Date): Promise<{ intent: ImportIntent; resumed: boolean }> {
    const previous = await this.pending()
    if (previous && previous.tenant === input.tenant && previous.app === input.app && previous.fingerprint === input.fingerprint) {
      return { intent: previous, resumed: true }
    }
    const intent: ImportIntent = { ...input, syncId: syncIdFor(input.tenant, input.fingerprint, now), occurredAt: now.toISOString() }
    await makeDirectory(this.dataDir)
    await replaceFile(this.path, JSON.stringify(intent, null, 2))
    return { intent, resumed: false }
  }

  /**
   * The sync's end: the one this intent's import noted before (a resumed import ends when the
   * interrupted one did), else `now`, noted now; never before the sync's start.
   */
  async end(now: Date): Promise<string> {
    const intent = await this.pending()
    if (intent === undefined) throw new Error('ImportJournal.end: no import in progress; call begin first')
    if (intent.endedAt !== undefined) return intent.endedAt
    const endedAt = new Date(Math.max(now.getTime(), Date.parse(intent.occurredAt))).toISOString()
    await replaceFile(this.path, JSON.stringify({ ...intent, endedAt }, null, 2))
    return endedAt
  }

  async finish(): Promise<void> {
    await rm(this.path, { force: true })
  }
}
