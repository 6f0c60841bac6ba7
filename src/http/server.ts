/**
 * The HTTP API of the sync log: a Fastify server over a read store and the API
 * tokens. Every `/api/v1` route needs a bearer token, whose scope goes into every
 * store call; `/healthz` and `/openapi.json` are open. Errors are
 * `{ error: { code, message } }`, never a stack.
 */
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import fastifyHelmet from '@fastify/helmet'
import fastifySwagger from '@fastify/swagger'
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify'
import { hasZodFastifySchemaValidationErrors, validatorCompiler } from 'fastify-type-provider-zod'
import type { Logger } from '../logging/logger.js'
import { allows, refusal, type ApiTokenInfo, type ApiTokens } from './api-tokens.js'
import { ClientGone } from './downloads.js'
import { HttpProblem, bodyTooLarge, problemOf, quoted } from './http-errors.js'
import { openApiOptions } from './openapi.js'
import { parameterProblem } from './parameter-errors.js'
import type { ReadStore } from './read-store.js'
import { defineRoute } from './route-def.js'
import { API_PREFIX, apiRoutes } from './routes.js'
import { SESSION_COOKIE, sessionRoutes } from './session.js'
import { decisionRoutes } from './decision-routes.js'
import { alertRoutes, type AlertDeliveryReader } from './alert-routes.js'
import { rosterRoutes } from './roster-routes.js'
import { compareRoutes } from './compare-routes.js'
import type { SyncDecisions } from '../pipeline/sync-decisions.js'
import { acceptUploadBodies, importRoutes, receivingUpload, type ImportRoutesDeps } from './import-routes.js'
import { serveWebFiles, webRoutes } from './web-ui.js'
import { HealthSchema, OpenApiSchema, type HttpErrorCode } from './schemas.js'
import { DEFAULT_BODY_LIMIT, DEFAULT_HTTP_LIMITS, checkIntervalMs, type HttpLimits } from './server-limits.js'
import type { TrustProxy } from '../config/trust-proxy.js'
import { serverIdentity, withPublicMessages, withoutServerDirectories } from './public-text.js'
import { TimeZones, systemTimeZone } from '../export/local-time.js'

/** Request line and headers: room for a long filter (a 100 KB `contains`), not for abuse. */
const MAX_HEADER_BYTES = 256 * 1024
/** The longest path parameter (a sync id) the router accepts. */
const MAX_PARAM_LENGTH = 1024

export interface ServerOptions {
  readonly store: ReadStore
  readonly tokens: ApiTokens
  readonly logger: Logger
  /** The API version in the OpenAPI document (the package version). */
  readonly version: string
  readonly now?: () => number
  /** Where the built web page is (default: dist/web). */
  readonly webRoot?: string
  /** Timeouts and the connection limit (default: DEFAULT_HTTP_LIMITS). */
  readonly limits?: HttpLimits
  /** The reverse proxies whose X-Forwarded-* headers are believed (default: none). */
  readonly trustProxy?: TrustProxy
  /** The data directory, never named in an answer. */
  readonly dataDir?: string
  /** Approving and rejecting held syncs (src/http/decision-routes.ts); without it the server has no such routes. */
  readonly decisions?: SyncDecisions
  /** Imports by upload (src/http/import-routes.ts); without it the server has no such routes. */
  readonly imports?: ImportRoutesDeps
  /** The alert delivery log (src/http/alert-routes.ts); without it the server has no such route. */
  readonly alertDeliveries?: AlertDeliveryReader
  /** Each tenant's time zone (default: the system's for every tenant). */
  readonly timeZones?: TimeZones
}

export interface RegisteredRoute {
  readonly method: string
  readonly url: string
}

export interface SynclogServer {
  readonly app: FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>
  /** The routes as Fastify registered them (checked against the OpenAPI document by the tests). */
  readonly registeredRoutes: readonly RegisteredRoute[]
}

/**
 * The security headers of every answer: only `X-Content-Type-Options: nosniff`
 * (an answer is never sniffed into another type). The web page's routes add
 * their Content-Security-Policy (src/http/web-ui.ts).
 */
const SECURITY_HEADERS = {
  contentSecurityPolicy: false,
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  strictTransportSecurity: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: false,
  xPermittedCrossDomainPolicies: false,
  xPoweredBy: false,
  xXssProtection: false,
} as const

/**
 * Fastify's request lines, quieter: one debug line per request with the route
 * pattern, status, time and token name, never the query string (it may hold
 * student names in a `contains` filter).
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? '(no route)',
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      token: request.caller?.name,
      params: Object.keys((request.query ?? {}) as object),
    }
    if (error) reply.log.warn({ ...line, err: error }, 'request failed while responding')
    else reply.log.debug(line, 'request')
  }

  override streamError(error: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply): void {
    if (error instanceof ClientGone || error.code === 'ERR_STREAM_PREMATURE_CLOSE')
      reply.log.debug('download stopped: the client went away')
    else reply.log.warn({ err: error }, 'download cut short by an error after it started')
  }

  override routeNotFound(): void {}
}

/**
 * Answers a connection Node gives up on before a request reached Fastify, then
 * closes it: 408 when it sent its request too slowly, 431 for oversized headers,
 * 400 for anything malformed. Nothing is written once a response has started.
 */
function refuseConnection(socket: Socket, status: 400 | 408 | 431, code: HttpErrorCode, message: string): void {
  if (socket.writable && socket.bytesWritten === 0) {
    const body = JSON.stringify({ error: { code, message } })
    socket.write(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    )
  }
  socket.destroy()
}

function tooSlow(limits: HttpLimits): string {
  return (
    `the request was not received in time (headers within ${limits.headersTimeoutMs / 1000} s, the whole request within ${limits.requestTimeoutMs / 1000} s, ` +
    `no pause longer than ${limits.idleTimeoutMs / 1000} s); the connection is closed`
  )
}

function clientErrorHandlerFor(limits: HttpLimits) {
  return function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    // An upload is exempt: it is cut when it stalls, not for being large (src/http/import-routes.ts).
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && receivingUpload(socket)) return
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return refuseConnection(socket, 408, 'REQUEST_TIMEOUT', tooSlow(limits))
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      return refuseConnection(
        socket,
        431,
        'TOO_LARGE',
        `the request line and headers are larger than ${MAX_HEADER_BYTES / 1024} KB; shorten the filters`,
      )
    }
    refuseConnection(socket, 400, 'BAD_REQUEST', 'malformed HTTP request')
  }
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

async function authenticate(tokens: ApiTokens, request: FastifyRequest): Promise<ApiTokenInfo> {
  const header = request.headers.authorization
  if (header === undefined || header === '') {
    // A browser signed in through POST /api/v1/session: the cookie holds the token.
    const fromCookie = request.cookies[SESSION_COOKIE]
    const caller = fromCookie === undefined || fromCookie === '' ? null : await tokens.authenticate(fromCookie)
    if (caller !== null) return caller
    if (fromCookie !== undefined && fromCookie !== '') {
      throw new HttpProblem(401, 'UNAUTHORIZED', "the session's API token is unknown or revoked; sign in again", {
        'www-authenticate': 'Bearer realm="synclog"',
      })
    }
    throw new HttpProblem(
      401,
      'UNAUTHORIZED',
      'this endpoint needs an API token: send "Authorization: Bearer <token>" (an operator creates one with: synclog token create --name <name> --tenant <district>)',
      { 'www-authenticate': 'Bearer realm="synclog"' },
    )
  }
  const match = BEARER.exec(header)
  const caller = match === null ? null : await tokens.authenticate(match[1]!)
  if (caller === null) {
    throw new HttpProblem(401, 'UNAUTHORIZED', 'the API token is unknown or revoked (expected "Authorization: Bearer slk_…")', {
      'www-authenticate': 'Bearer realm="synclog", error="invalid_token"',
    })
  }
  return caller
}

export async function buildServer(opts: ServerOptions): Promise<SynclogServer> {
  const now = opts.now ?? Date.now
  const zones = opts.timeZones ?? new TimeZones(systemTimeZone())
  const limits = opts.limits ?? DEFAULT_HTTP_LIMITS
  const identity = serverIdentity(opts.dataDir)
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'http' }),
    logController: new RequestLog(),
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    trustProxy: opts.trustProxy === undefined || opts.trustProxy === false ? false : [...opts.trustProxy],
    bodyLimit: DEFAULT_BODY_LIMIT,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: checkIntervalMs(limits),
    },
    clientErrorHandler: clientErrorHandlerFor(limits),
    // A malformed URL (`/syncs/%zz`) answers in the API's error format too.
    frameworkErrors: (err, request, reply) => {
      const message =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`
          : err.code === 'FST_ERR_BAD_URL'
            ? `malformed URL ${quoted(request.url)}: a % must start an escape such as %20`
            : 'the request could not be routed'
      const problem = new HttpProblem(400, 'BAD_REQUEST', message)
      request.log.debug({ code: err.code }, 'request refused by the router')
      void (reply as FastifyReply).code(problem.status).send(problem.body())
    },
  })
  guardConnections(app, limits)
  if (opts.imports !== undefined) acceptUploadBodies(app)
  app.setValidatorCompiler(validatorCompiler)
  // Answers are written as they are. The response schemas describe them (schemas.ts checks them against the
  // store's types when compiling); checking a 10,000-row page at run time would cost several times its JSON.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  await app.register(fastifyCookie)
  await app.register(fastifyHelmet, SECURITY_HEADERS)
  await app.register(fastifySwagger, openApiOptions(opts.version))
  await serveWebFiles(app, opts.webRoot)
  const registeredRoutes: RegisteredRoute[] = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) registeredRoutes.push({ method, url: route.url })
  })

  // The token is checked before the parameters, so a stranger learns nothing from a 400.
  app.decorateRequest('caller', null)
  app.addHook('preValidation', async (request) => {
    const { auth, permission } = request.routeOptions.config
    if (auth !== true) return
    const caller = await authenticate(opts.tokens, request)
    request.caller = caller
    if (permission !== undefined && !allows(caller, permission)) throw new HttpProblem(403, 'FORBIDDEN', refusal(caller, permission))
  })

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
    reply.header('cache-control', 'no-store')
  })

  app.setErrorHandler((err, request, reply) => {
    const { problem, level } = hasZodFastifySchemaValidationErrors(err)
      ? { problem: parameterProblem(err.validation, err.validationContext ?? '', request), level: 'debug' as const }
      : (err as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? {
            problem: bodyTooLarge(
              request.routeOptions.bodyLimit ?? DEFAULT_BODY_LIMIT,
              request.method,
              request.routeOptions.url ?? request.url,
            ),
            level: 'debug' as const,
          }
        : problemOf(err, request.id)
    if (level === 'error') request.log.error({ err, route: request.routeOptions.url }, 'request failed')
    else if (level === 'warn') request.log.warn({ err, route: request.routeOptions.url }, 'request failed: store unavailable')
    else request.log.debug({ code: problem.code, status: problem.status }, 'request refused')
    const body = problem.body()
    body.error.message = withoutServerDirectories(body.error.message, identity)
    return reply.code(problem.status).headers(problem.headers).send(body)
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    const problem = new HttpProblem(
      404,
      'NOT_FOUND',
      `no endpoint ${request.method} ${quoted(path)}; the endpoints are listed at /openapi.json`,
    )
    return reply.code(404).send(problem.body())
  })

  const routes = [
    defineRoute({
      method: 'GET',
      url: '/healthz',
      operationId: 'health',
      tag: 'server',
      auth: false,
      readsStore: false,
      summary: 'Liveness: the server answers (no token needed)',
      response: { json: { schema: HealthSchema, description: 'The server is up.' } },
      handler: async () => ({ status: 'ok' as const }),
    }),
    defineRoute({
      method: 'GET',
      url: '/openapi.json',
      operationId: 'openApi',
      tag: 'server',
      auth: false,
      readsStore: false,
      summary: 'This OpenAPI 3.1 document (no token needed)',
      response: { json: { schema: OpenApiSchema, description: 'The OpenAPI document.' } },
      handler: async () => app.swagger(),
    }),
    ...apiRoutes({ store: withPublicMessages(opts.store, identity), now, zones }),
    ...rosterRoutes(API_PREFIX, {
      store: withPublicMessages(opts.store, identity),
      now,
      zones: opts.timeZones ?? new TimeZones(systemTimeZone()),
    }),
    ...compareRoutes(API_PREFIX, opts.store),
    ...sessionRoutes(API_PREFIX, opts.tokens, zones),
    ...decisionRoutes(API_PREFIX, opts.decisions, withPublicMessages(opts.store, identity), now),
    ...importRoutes(opts.imports, limits.idleTimeoutMs),
    ...alertRoutes(API_PREFIX, opts.alertDeliveries),
    ...webRoutes(opts.webRoot),
  ]
  for (const route of routes) app.route(route)
  await app.ready()
  return { app, registeredRoutes }
}

/** How often at most a refused connection is logged (a flood would otherwise flood the log). */
const DROP_LOG_MS = 10_000

/**
 * The connection limit and the idle timeout: Node closes connections beyond
 * `maxConnections` as they arrive (HTTP has no answer before a request), and a
 * connection silent for the idle timeout before its request is in gets a 408.
 * Once the request is in, the idle timeout stops: a slow query or a long
 * download is not a slow client.
 */
function guardConnections(
  app: FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>,
  limits: HttpLimits,
): void {
  const server = app.server
  server.maxConnections = limits.maxConnections
  let dropped = 0
  let lastLogged = 0
  server.on('drop', () => {
    dropped++
    const at = Date.now()
    if (at - lastLogged < DROP_LOG_MS) return
    app.log.warn(
      { dropped, maxConnections: limits.maxConnections },
      'connections refused: the server holds its limit of open connections (http.maxConnections, --max-connections)',
    )
    lastLogged = at
    dropped = 0
  })
  // With a listener here Node no longer destroys a timed-out socket itself.
  server.on('timeout', (socket: Socket) => refuseConnection(socket, 408, 'REQUEST_TIMEOUT', tooSlow(limits)))
  app.addHook('preHandler', async (request) => {
    const socket = request.raw.socket as Socket | null
    if (typeof socket?.setTimeout === 'function') socket.setTimeout(0)
  })
}
