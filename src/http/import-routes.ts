/**
 * Imports over HTTP, for an SIS that publishes a OneRoster zip and has no Kafka:
 * `POST /api/v1/imports` streams the zip (the raw body) to a file under the data
 * directory, never more than the zip size limit, checks it as the CLI import would
 * before its first record, and answers 202 with the import's id, its sync id and a
 * `Location` to poll; `GET /api/v1/imports/{importId}` answers the import's state and,
 * when done, the sync's summary (`?wait=` holds the answer until then, a while at most).
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FastifyInstance, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import { z } from 'zod'
import { booleanParam } from '../clickhouse/log-filter.js'
import type { Scope } from '../clickhouse/types.js'
import { formatBytes } from '../config/limits.js'
import { isSynclogError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { DEFAULT_APP } from '../oneroster/read-bundle.js'
import { makeDirectory } from '../paths/make-directory.js'
import { checkTenant } from '../pipeline/import-bundle.js'
import { IMPORT_ID_SHAPE, IMPORT_SOURCES, IMPORT_STATES, type ImportJobs, type ImportRecord } from '../service/import-jobs.js'
import type { ApiTokenInfo } from './api-tokens.js'
import { HttpProblem, quoted } from './http-errors.js'
import { defineRoute, type RouteDef } from './route-def.js'
import { API_PREFIX } from './routes.js'
import { SyncSummarySchema, apiSchemas } from './schemas.js'

/** The bodies `POST /api/v1/imports` takes: a zip, as itself or as plain bytes. */
export const UPLOAD_TYPES = ['application/zip', 'application/octet-stream'] as const

/** The longest `?wait=` in seconds. */
export const MAX_WAIT_SECONDS = 60

export interface ImportRoutesDeps {
  readonly jobs: ImportJobs
  /** Where uploads are written while they wait for their import (under the data directory). */
  readonly uploadDir: string
  /** The largest upload in bytes: the zip size limit (limits.zipBytes). */
  readonly maxBytes: number
}

const ImportQuery = z.strictObject({
  tenant: z.string().min(1, { error: 'must not be blank' }).optional().meta({
    description:
      'The district whose SIS produced the export. A tenant token imports its own tenant (the default); a token of every tenant must name one.',
  }),
  app: z
    .string()
    .min(1, { error: 'must not be blank' })
    .max(100, { error: 'must be at most 100 characters' })
    .optional()
    .meta({ description: `The source application recorded with the sync (default ${DEFAULT_APP}).` }),
  preview: booleanParam(
    'true: compute the whole sync (counts, actions, errors) without applying it; it waits in Preview until approved (applied) or rejected (discarded).',
  ).optional(),
})

const ImportIdParams = z.strictObject({
  importId: z
    .string()
    .regex(IMPORT_ID_SHAPE, { error: 'must be an import id as POST /api/v1/imports answered it (imp_…)' })
    .meta({ description: 'The import id `POST /api/v1/imports` answered.' }),
})

const WaitQuery = z.strictObject({
  wait: z.coerce
    .number({ error: `must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}` })
    .min(0, { error: `must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}` })
    .max(MAX_WAIT_SECONDS, { error: `must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}` })
    .optional()
    .meta({
      description: `Hold the answer until the import is over, at most this many seconds (0 to ${MAX_WAIT_SECONDS}; default 0: answer at once).`,
    }),
})

export const ImportSchema = z
  .object({
    importId: z.string(),
    syncId: z
      .string()
      .meta({ description: 'The sync the import records, known from acceptance on: GET /api/v1/syncs/{syncId} once it runs.' }),
    tenant: z.string(),
    app: z.string(),
    source: z
      .enum(IMPORT_SOURCES)
      .meta({ description: 'upload: POST /api/v1/imports; drop-folder: a file in the folder of serve --watch.' }),
    name: z.string().meta({ description: 'The delivered file or folder (upload for an HTTP upload).' }),
    state: z.enum(IMPORT_STATES).meta({
      description: 'queued (waiting for the writes before it), running, done (the sync recorded: see result), failed (see error).',
    }),
    acceptedAt: z.string().meta({ description: 'ISO instant.' }),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    result: z
      .object({
        summary: SyncSummarySchema,
        events: z.number().int(),
        rowsWritten: z.number().int(),
        rejected: z.number().int(),
      })
      .optional()
      .meta({ description: "When done: the sync's summary (its status says Completed, Completed with Errors, On Hold or Failed)." }),
    error: z.string().optional().meta({ description: 'When failed: why.' }),
  })
  .register(apiSchemas, { id: 'Import', description: 'An import handed to the service (an upload or a drop-folder file).' })

export const ImportListSchema = z.object({ imports: z.array(ImportSchema) }).register(apiSchemas, {
  id: 'ImportList',
  description: "The imports of this service's run the token may see, newest first (the most recent few hundred).",
})

/** Sockets receiving an upload: the request timeout does not cut them (a stall does: see receiveUpload). */
const uploading = new WeakSet<Socket>()

/** Whether the server's request timeout should spare this connection: it is receiving an upload, which has its own stall timeout. */
export function receivingUpload(socket: Socket): boolean {
  return uploading.has(socket)
}

/** Makes the upload types reach the route as the raw stream (read by receiveUpload), never buffered. */
export function acceptUploadBodies(
  app: FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>,
): void {
  app.addContentTypeParser([...UPLOAD_TYPES], (_request, payload, done) => done(null, payload))
}

/** The tenant the caller imports: its own, or the one it names when it holds every tenant. */
function tenantOf(caller: ApiTokenInfo, asked: string | undefined): string {
  const own = caller.scope.tenant
  if (own === undefined) {
    if (asked === undefined)
      throw new HttpProblem(
        400,
        'BAD_PARAMETER',
        'query parameter tenant is missing: a token of every tenant names the tenant it imports (?tenant=district-a)',
      )
    return asked
  }
  if (caller.scope.school !== undefined) {
    throw new HttpProblem(
      403,
      'FORBIDDEN',
      `token '${caller.name}' is scoped to one school; importing replaces a tenant's roster, which needs a token of the whole tenant`,
    )
  }
  if (asked !== undefined && asked !== own) {
    throw new HttpProblem(403, 'FORBIDDEN', `token '${caller.name}' may import only tenant ${quoted(own)}, not ${quoted(asked)}`)
  }
  return own
}

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(
    413,
    'TOO_LARGE',
    `the upload is larger than ${formatBytes(maxBytes)}, the limit zipBytes (raise it with SYNCLOG_LIMIT_ZIP_BYTES or limits.zipBytes in synclog.config.json)`,
    { connection: 'close' },
  )
}

class UploadTooLarge extends Error {}
class UploadStalled extends Error {}

/**
 * The request's body into `path`, as it arrives: at most `maxBytes` (then 413, the file
 * removed), and no pause longer than `stallMs` (then the connection is closed, the file
 * removed). The server's request timeout spares the connection meanwhile, so a slow but
 * steady client is never cut.
 */
async function receiveUpload(request: FastifyRequest, path: string, maxBytes: number, stallMs: number): Promise<number> {
  const declared = Number(request.headers['content-length'] ?? NaN)
  if (declared > maxBytes) throw tooLarge(maxBytes)
  const body = request.body as NodeJS.ReadableStream | undefined
  if (typeof body?.pipe !== 'function' || declared === 0)
    throw new HttpProblem(400, 'BAD_REQUEST', 'the body is empty: send the zip itself as the body')
  const socket = request.raw.socket as Socket | null
  if (socket !== null) uploading.add(socket)
  let bytes = 0
  const stall = setTimeout(() => request.raw.destroy(new UploadStalled()), stallMs)
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, next) {
      bytes += chunk.length
      stall.refresh()
      next(bytes > maxBytes ? new UploadTooLarge() : null, chunk)
    },
  })
  try {
    await pipeline(body, counter, createWriteStream(path, { flags: 'wx', mode: 0o600 }))
    return bytes
  } catch (e) {
    await rm(path, { force: true })
    if (e instanceof UploadTooLarge) throw tooLarge(maxBytes)
    if (e instanceof UploadStalled) {
      throw new HttpProblem(408, 'REQUEST_TIMEOUT', `the upload paused for more than ${stallMs / 1000} s; the connection is closed`, {
        connection: 'close',
      })
    }
    if (request.raw.destroyed || (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') {
      throw new HttpProblem(400, 'BAD_REQUEST', 'the upload ended before its whole body arrived; nothing was kept: send it again', {
        connection: 'close',
      })
    }
    throw e
  } finally {
    clearTimeout(stall)
    if (socket !== null) uploading.delete(socket)
  }
}

/** A bundle the import would record as Failed, as the answer to its upload. */
function refusedBundle(e: unknown, path: string): unknown {
  if (!isSynclogError(e)) return e
  const message = e.message.split(path).join('the upload')
  if (e.code === 'INPUT_LIMIT_EXCEEDED') return new HttpProblem(413, 'TOO_LARGE', message)
  if (e.code === 'INPUT_UNREADABLE' || e.code === 'MANIFEST_INVALID')
    return new HttpProblem(400, 'BAD_REQUEST', `the upload is not a OneRoster bundle synclog can import: ${message}`)
  return e
}

function visible(jobs: ImportJobs, importId: string, scope: Scope): ImportRecord {
  const record = jobs.find(importId, scope)
  if (record === undefined) {
    throw new HttpProblem(
      404,
      'NOT_FOUND',
      `no import ${quoted(importId)} visible to this token (imports are remembered while the service runs; list them with GET /api/v1/imports)`,
    )
  }
  return record
}

/** The routes of imports; none without `deps`. `stallMs`: the longest pause an upload may make (the idle timeout). */
export function importRoutes(deps: ImportRoutesDeps | undefined, stallMs: number): RouteDef[] {
  if (deps === undefined) return []
  const { jobs, uploadDir, maxBytes } = deps
  return [
    defineRoute({
      method: 'POST',
      url: `${API_PREFIX}/imports`,
      operationId: 'createImport',
      tag: 'imports',
      auth: true,
      permission: 'import',
      readsStore: false,
      summary: 'Import a OneRoster zip as one sync of a tenant (the raw body); answers 202 at once',
      description:
        `The body is the zip itself (Content-Type ${UPLOAD_TYPES.join(' or ')}), at most ${formatBytes(maxBytes)} (limits.zipBytes). ` +
        "It is checked as `synclog import` reads it before its first record (the zip, the manifest, every file's header); a bundle that cannot be read " +
        "is refused with 400 naming the file and line. Imports run one after another, after the service's other writes; poll the `Location`.",
      query: ImportQuery,
      upload: { contentTypes: UPLOAD_TYPES, description: 'The OneRoster 1.1/1.2 CSV bundle as a .zip (manifest.csv and the CSV files).' },
      response: {
        json: {
          schema: ImportSchema,
          description: 'Accepted and queued: the import id, the sync id and where to poll (the Location header).',
          status: 202,
        },
      },
      problems: [
        [
          413,
          'The upload is larger than the zip size limit, or the bundle is over another input limit; the message names the limit. Nothing is kept.',
        ],
        [415, 'The body is not sent as application/zip or application/octet-stream.'],
      ],
      handler: async ({ caller, query, request, reply }) => {
        const tenant = tenantOf(caller!, query.tenant)
        checkTenant(tenant, 'query parameter tenant')
        const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
        if (!(UPLOAD_TYPES as readonly string[]).includes(type)) {
          throw new HttpProblem(
            415,
            'BAD_REQUEST',
            `the body must be the zip itself, sent as Content-Type ${UPLOAD_TYPES.join(' or ')} (got ${quoted(type || 'none')})`,
          )
        }
        await makeDirectory(uploadDir)
        const path = join(uploadDir, `${randomBytes(12).toString('base64url')}.zip`)
        const bytes = await receiveUpload(request, path, maxBytes, stallMs)
        let record: ImportRecord
        try {
          record = await jobs.submit({
            path,
            name: 'upload',
            tenant,
            app: query.app ?? DEFAULT_APP,
            source: 'upload',
            preview: query.preview === true,
            afterwards: () => rm(path, { force: true }),
          })
        } catch (e) {
          await rm(path, { force: true })
          throw refusedBundle(e, path)
        }
        request.log.info({ importId: record.importId, syncId: record.syncId, tenant, bytes, token: caller!.name }, 'upload accepted')
        return reply.code(202).header('location', `${API_PREFIX}/imports/${record.importId}`).send(record)
      },
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/imports`,
      operationId: 'listImports',
      tag: 'imports',
      auth: true,
      readsStore: false,
      summary: 'The imports handed to this service the token may see (uploads and drop-folder files), newest first',
      response: { json: { schema: ImportListSchema, description: 'The imports.' } },
      handler: async ({ scope }) => ({ imports: jobs.list(scope) }),
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/imports/:importId`,
      operationId: 'getImport',
      tag: 'imports',
      auth: true,
      readsStore: false,
      summary: "One import: queued, running, done (with the sync's summary) or failed (with why)",
      description:
        "A tenant token sees its tenant's imports; a token of every tenant sees all. Imports are remembered while the service runs.",
      params: ImportIdParams,
      query: WaitQuery,
      problems: [[404, 'No such import visible to this token (imports are remembered while the service runs).']],
      response: { json: { schema: ImportSchema, description: 'The import.' } },
      handler: async ({ scope, params, query }) => {
        visible(jobs, params.importId, scope)
        await jobs.settled(params.importId, (query.wait ?? 0) * 1000)
        return visible(jobs, params.importId, scope)
      },
    }),
  ]
}
