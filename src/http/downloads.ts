/**
 * File downloads streamed from the store to the client, never buffered, in any
 * log file format (src/export/formats). The first row is read before the status line goes out, so a bad
 * filter or an unavailable store is still a proper 4xx/5xx; a failure after that
 * can only cut the response short (the client sees an incomplete download).
 */
import { PassThrough } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { z } from 'zod'
import { formatNames, type LogFileFormat } from '../export/formats/index.js'
import type { LogRecord } from '../clickhouse/types.js'
import type { TimeZones } from '../export/local-time.js'

/** The path of the log's download in `format`, under the API's prefix: `/log.csv`. */
export const logDownloadPath = (format: LogFileFormat): string => `/log.${format.file.extension}`

/** The page's download menu: the log file formats, as the format list has them when the routes are built. */
export function logDownloadsSchema(): z.ZodObject {
  const names = formatNames('log file')
  return z.object({
    downloads: z
      .array(
        z.object({
          format: z.enum(names as [string, ...string[]]).meta({ description: "The format's name." }),
          label: z.string().meta({ description: 'For people: "Excel", "CSV".' }),
          url: z.string().meta({ description: "The download; the query parameters of the log's filters narrow it." }),
        }),
      )
      .meta({ description: 'One per log file format, the usual one first.' }),
  })
}

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
 * Reads the first row, then sends `rows` in `format` as an attachment named
 * `fileName`. Resolves to the reply once the response has started.
 */
export async function sendDownload(
  reply: FastifyReply,
  rows: AsyncIterable<LogRecord> | Iterable<LogRecord>,
  format: LogFileFormat,
  fileName: string,
  zones?: TimeZones,
): Promise<FastifyReply> {
  const source = await startedIterator(rows)
  const body = new PassThrough()
  // Registered before Fastify's own listener (which would destroy `body` without an error):
  // a client that goes away fails the writer instead of leaving it waiting for 'drain'.
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished && !body.destroyed) body.destroy(new ClientGone())
  })
  const log = reply.log
  format.log(body, source, zones).then(
    (rowCount) => {
      if (!body.writableEnded) body.end()
      log.debug({ rows: rowCount, format: format.name }, 'download complete')
    },
    (err: unknown) => {
      // A write into the destroyed body fails with its own error; the cause is still the client leaving.
      if (err instanceof ClientGone || body.errored instanceof ClientGone) {
        log.debug({ err, format: format.name }, 'download stopped: the client went away')
      } else {
        log.error({ err, format: format.name }, 'download failed after it started; the response is cut short')
      }
      body.destroy(err instanceof Error ? err : new Error(String(err)))
      source.close()
    },
  )
  return reply
    .header('content-disposition', `attachment; filename="${safeFileName(fileName)}"`)
    .type(format.file.contentType)
    .send(body)
}

interface StartedIterable extends AsyncIterable<LogRecord> {
  /** Ends the underlying source if the consumer stopped without finishing it. */
  close(): void
}

/** Pulls the first item now (so its errors surface before the response starts), then yields it and the rest. */
async function startedIterator(rows: AsyncIterable<LogRecord> | Iterable<LogRecord>): Promise<StartedIterable> {
  const it: AsyncIterator<LogRecord> | Iterator<LogRecord> =
    Symbol.asyncIterator in rows ? rows[Symbol.asyncIterator]() : rows[Symbol.iterator]()
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
