/**
 * One route of the API as data: its URL, the zod schemas of its parameters and
 * response, and its handler, turned into Fastify's route options. Fastify
 * validates the parameters with the zod schemas (fastify-type-provider-zod) and
 * @fastify/swagger documents the same options, so the two cannot drift.
 */
import type {
  ContextConfigDefault,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  FastifyTypeProviderDefault,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteOptions,
} from 'fastify'
import { z } from 'zod'
import type { Scope } from '../clickhouse/types.js'
import type { Logger } from '../logging/logger.js'
import type { ApiTokenInfo, Permission } from './api-tokens.js'
import { NoQuery } from './schemas.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Needs a token: `Authorization: Bearer <token>`, or the cookie of a browser session. */
    auth?: boolean
    /** What the token's role must allow beyond reading (src/http/api-tokens.ts); a token without it gets 403. */
    permission?: Permission
    /** Reads the store (so may answer 503). */
    readsStore?: boolean
    /** May answer 404 (an unknown sync). */
    notFound?: boolean
    /** Other refusals the route may answer, for the OpenAPI document: status and when. */
    problems?: readonly (readonly [status: number, description: string])[]
    /** A raw body the handler streams itself (an upload), not JSON: its media types, for the OpenAPI document. */
    upload?: { readonly contentTypes: readonly string[]; readonly description: string }
  }
  interface FastifyRequest {
    /** The token the request carries; null on routes without auth. */
    caller: ApiTokenInfo | null
  }
}

interface JsonResponse {
  readonly schema: z.ZodType
  readonly description: string
  /** The success status (default 200; 202 for work accepted and queued). */
  readonly status?: 200 | 202
}

interface FileResponse {
  readonly contentType: string
  readonly description: string
}

interface RouteContext<Q, P, B> {
  readonly query: Q
  readonly params: P
  /** The JSON body, on routes that take one. */
  readonly body: B
  /** The caller's token; null only on routes without auth. */
  readonly caller: ApiTokenInfo | null
  /** The scope every store call gets: the token's. */
  readonly scope: Scope
  readonly request: FastifyRequest
  readonly reply: FastifyReply
}

type RouteConfig = NonNullable<RouteOptions['config']>

/** Fastify's options of one route, for a server that logs with synclog's logger. */
export type RouteDef = RouteOptions<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericInterface,
  ContextConfigDefault,
  FastifySchema,
  FastifyTypeProviderDefault,
  Logger
>

type Empty = z.ZodObject<Record<string, never>>

interface RouteSpec<Q extends z.ZodObject, P extends z.ZodObject, B extends z.ZodObject> extends Pick<
  RouteConfig,
  'auth' | 'permission' | 'readsStore' | 'notFound' | 'problems' | 'upload'
> {
  readonly method: 'GET' | 'POST' | 'DELETE'
  /** Fastify's form: `/api/v1/syncs/:syncId`. */
  readonly url: string
  readonly operationId: string
  readonly tag: string
  readonly summary: string
  readonly description?: string
  readonly query?: Q
  readonly params?: P
  /** A JSON request body. */
  readonly body?: B
  /** The largest body the route reads, in bytes (default: the server's); more is refused with 413. */
  readonly bodyLimit?: number
  readonly response: { readonly json: JsonResponse } | { readonly file: FileResponse } | { readonly empty: string }
  /** Fastify route options beyond these (a hook, the security headers of a page). */
  readonly options?: Partial<RouteDef>
  readonly handler: (ctx: RouteContext<z.output<Q>, z.output<P>, z.output<B>>) => Promise<unknown>
}

/** What a file response carries, for the OpenAPI document. */
const Binary = z.string().meta({ format: 'binary' })

function responseOf(response: RouteSpec<Empty, Empty, Empty>['response']): Record<number, unknown> {
  if ('json' in response) {
    const { schema, description, status = 200 } = response.json
    return { [status]: { description, content: { 'application/json': { schema } } } }
  }
  if ('file' in response)
    return { 200: { description: response.file.description, content: { [response.file.contentType]: { schema: Binary } } } }
  return { 204: z.undefined().meta({ description: response.empty }) }
}

export function defineRoute<Q extends z.ZodObject = typeof NoQuery, P extends z.ZodObject = Empty, B extends z.ZodObject = Empty>(
  spec: RouteSpec<Q, P, B>,
): RouteDef {
  const { method, url, operationId, tag, summary, description, query, params, body, bodyLimit, response, options, handler, ...config } =
    spec
  return {
    ...options,
    method,
    url,
    ...(bodyLimit === undefined ? {} : { bodyLimit }),
    config: { ...options?.config, ...config },
    schema: {
      operationId,
      tags: [tag],
      summary,
      ...(description === undefined ? {} : { description }),
      querystring: query ?? NoQuery,
      ...(params === undefined ? {} : { params }),
      ...(body === undefined ? {} : { body }),
      response: responseOf(response),
    },
    handler: (request, reply) =>
      handler({
        query: request.query as z.output<Q>,
        params: (params === undefined ? {} : request.params) as z.output<P>,
        body: (body === undefined ? {} : request.body) as z.output<B>,
        caller: request.caller,
        scope: request.caller?.scope ?? NO_ACCESS,
        request,
        reply,
      }),
  }
}

/**
 * The scope of a route without a token: a tenant no data belongs to. Such routes
 * never read the store; this only makes a mistake fail closed.
 */
const NO_ACCESS: Scope = { tenant: '\u0000no-access', school: { id: '\u0000no-access', side: 'either' } }
