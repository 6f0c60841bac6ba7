/**
 * Progress of long work: a bar on a terminal, a log line every few seconds otherwise.
 */
import cliProgress from 'cli-progress'
import type { Logger } from '../logging/logger.js'

export interface Progress {
  update(p: { file: string; rows: number; bytes: number; totalBytes: number }): void
  stop(): void
}

export function createProgress(logger: Logger, label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {percentage}% | {file} | {rows} rows`,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    )
    let started = false
    return {
      update(p) {
        if (!started) {
          bar.start(Math.max(p.totalBytes, 1), 0, { file: p.file, rows: 0 })
          started = true
        }
        bar.update(Math.min(p.bytes, Math.max(p.totalBytes, 1)), { file: p.file, rows: p.rows })
      },
      stop: () => bar.stop(),
    }
  }
  let last = 0
  return {
    update(p) {
      const now = performance.now()
      if (now - last < 5000) return
      last = now
      logger.info(
        { file: p.file, rows: p.rows, percent: p.totalBytes > 0 ? Math.round((100 * p.bytes) / p.totalBytes) : null },
        `${label}…`,
      )
    },
    stop() {},
  }
}
