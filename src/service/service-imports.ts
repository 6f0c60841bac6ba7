/**
 * How imports reach a running service besides the CLI: HTTP uploads (kept under
 * `<data>/uploads/` until imported) and, with `serve --watch DIR`, the drop folder.
 * Both go through one ImportJobs, so they queue behind each other and behind the
 * CLI's writes on the service's write queue.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config } from '../config/config.js'
import { SynclogError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { DropFolder } from './drop-folder.js'
import { ImportJobs } from './import-jobs.js'
import type { SharedStore } from './shared-store.js'

export const UPLOAD_FOLDER = 'uploads'

export class ServiceImports {
  private drop: DropFolder | undefined

  private constructor(
    readonly jobs: ImportJobs,
    readonly uploadDir: string,
    readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  /**
   * The service's imports. Uploads a stopped service left behind are removed: their
   * clients never saw them done and deliver them again (an import cut off resumes
   * through the import journal under its first sync id).
   */
  static async open(shared: SharedStore, config: Config, logger: Logger): Promise<ServiceImports> {
    const uploadDir = join(config.dataDir, UPLOAD_FOLDER)
    await rm(uploadDir, { recursive: true, force: true })
    return new ServiceImports(new ImportJobs(shared, config, logger), uploadDir, config.limits.zipBytes, logger)
  }

  /** Imports what is delivered into `dir` (see src/service/drop-folder.ts). */
  async watch(dir: string, settleMs: number): Promise<void> {
    this.drop = await DropFolder.start({ dir, jobs: this.jobs, logger: this.logger, settleMs })
  }

  /** Stops the drop folder, refuses imports not yet started, and waits for the one running. */
  async close(): Promise<void> {
    await this.drop?.close()
    await this.jobs.close()
  }
}

/** `--watch <dir>`: an existing directory (checked before the service starts), as given. */
export async function checkWatchDir(dir: string): Promise<string> {
  await DropFolder.check(dir)
  return dir
}

/** `--watch-settle <seconds>`: from 0.1 to 3600. */
export function parseSettleSeconds(value: string): number {
  const seconds = Number(value)
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0.1 || seconds > 3600) {
    throw new SynclogError('USAGE', `--watch-settle must be a number of seconds from 0.1 to 3600 (got '${value}')`)
  }
  return seconds
}
