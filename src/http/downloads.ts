/**
 * File downloads (CSV, Excel) streamed from the store to the client, never
 * buffered. The first row is read before the status line goes out, so a bad
 * filter or an unavailable store is still a proper 4xx/5xx; a failure after that
 * can only cut the response short (the client sees an incomplete download).
 */
import { PassThrough } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { writeCsv } from '../export/csv-writer.js'
import { LOG_EXPORT_COLUMNS } from '../export/log-columns.js'
import { writeLogXlsxTo } from '../export/xlsx-log-writer.js'
import type { LogRecord } from '../clickhouse/types.js'

export const CSV_TYPE = 'text/csv; charset=utf-8'
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

export type DownloadFormat = 'csv' | 'xlsx'

/** Fails a download whose client went away (an error, so a writer waiting for 'drain' stops waiting); logged quietly. */
export class ClientGone extends Error {
  constructor() {
    super('the client closed the connection before the download was complete')
    this.name = 'ClientGone'
  }
}

/** A file name safe in a Content-Disposition header on every platform. */
export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 150)
}

/** `2024-09-01T06:00:00.000Z` → `20240901-060000`. */
export function fileStamp(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
}

/**
 * Reads the first row, then sends `rows` as a CSV or Excel attachment named
 * `fileName`. Resolves to the reply once the response has started.
 */
export async function sendDownload(
  reply: FastifyReply,
  rows: AsyncIterable<LogRecord> | Iterable<LogRecord>,
  format: DownloadFormat,
  fileName: string,
): Promise<FastifyReply> {
  const source = await startedIterator(rows)
  const body = new PassThrough()
  // Registered before Fastify's own listener (which would destroy `body` without an error):
  // a client that goes away fails the writer instead of leaving it waiting for 'drain'.
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished && !body.destroyed) body.destroy(new ClientGone())
  })
  const log = reply.log
  const write = format === 'csv'
    ? writeCsv(body, source, LOG_EXPORT_COLUMNS as readonly (readonly [string, string])[], { end: true })
    : writeLogXlsxTo(body, source)
  write.then(
    (rowCount) => {
      if (!body.writableEnded) body.end()
      log.debug({ rows: rowCount, format }, 'download complete')
    },
    (err: unknown) => {
      // A write into the destroyed body fails with its own error; the cause is still the client leaving.
      if (err instanceof ClientGone || body.errored instanceof ClientGone) {
        log.debug({ err, format }, 'download stopped: the client went away')
      } else {
        log.error({ err, format }, 'download failed after it started; the response is cut short')
      }
      body.destroy(err instanceof Error ? err : new Error(String(err)))
      source.close()
    },
  )
  return reply
    .header('content-disposition', `attachment; filename="${safeFileName(fileName)}"`)
    .type(format === 'csv' ? CSV_TYPE : XLSX_TYPE)
    .send(body)
}

interface StartedIterable extends AsyncIterable<LogRecord> {
  /** Ends the underlying source if the consumer stopped without finishing it. */
  close(): void
}

/** Pulls the first item now (so its errors surface before the response starts), then yields it and the rest. */
async function startedIterator(rows: AsyncIterable<LogRecord> | Iterable<LogRecord>): Promise<StartedIterable> {
  const it: AsyncIterator<LogRecord> | Iterator<LogRecord> = Symbol.asyncIterator in rows
    ? rows[Symbol.asyncIterator]()
    : rows[Symbol.iterator]()
  const first = await it.next()
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    Promise.resolve(it.return?.()).catch(() => undefined)
  }
  async function* all(): AsyncGenerator<LogRecord> {
    try {
      let step = first
      while (!step.done) {
        yield step.value
        step = await it.next()
      }
      closed = true
    } finally {
      close()
    }
  }
  const generator = all()
  return { [Symbol.asyncIterator]: () => generator, close }
}
