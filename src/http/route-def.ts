/**
 * One route of the API as data: its URL, the zod schemas of its parameters and
 * response, and its handler. The server registers routes from these and the
 * OpenAPI document is generated from the same list, so the two cannot drift.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { z } from 'zod'
import type { Scope } from '../clickhouse/types.js'
import type { ApiTokenInfo, Permission } from './api-tokens.js'
import { parseBody, parsePathParams, parseQuery } from './request-params.js'
import { NoQuery } from './schemas.js'

export interface JsonResponse {
  readonly schema: z.ZodType
  readonly description: string
  /** The success status (default 200; 202 for work accepted and queued). */
  readonly status?: 200 | 202
}

export interface FileResponse {
  readonly contentType: string
  readonly description: string
}

export interface RouteContext<Q, P, B> {
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

export interface RouteDef {
  readonly method: 'GET' | 'POST' | 'DELETE'
  /** Fastify's form: `/api/v1/syncs/:syncId`. */
  readonly url: string
  readonly operationId: string
  readonly tag: string
  readonly summary: string
  readonly description?: string
  /** Needs a token: `Authorization: Bearer <token>`, or the cookie of a browser session. */
  readonly auth: boolean
  /** What the token's role must allow beyond reading (src/http/api-tokens.ts); a token without it gets 403. */
  readonly permission?: Permission
  readonly params?: z.ZodObject
  readonly query: z.ZodObject
  /** A JSON request body. */
  readonly body?: z.ZodObject
  /** The largest body the route reads, in bytes (default DEFAULT_BODY_LIMIT); more is refused with 413. */
  readonly bodyLimit?: number
  /** A raw body the handler streams itself (an upload), not JSON: its media types, for the OpenAPI document. */
  readonly upload?: { readonly contentTypes: readonly string[]; readonly description: string }
  readonly response: { readonly json: JsonResponse } | { readonly file: FileResponse } | { readonly empty: string }
  /** May answer 404 (an unknown sync). */
  readonly notFound?: boolean
  /** Other refusals the route may answer, for the OpenAPI document: status and when. */
  readonly problems?: readonly (readonly [status: number, description: string])[]
  /** Reads the store (so may answer 503). */
  readonly readsStore: boolean
  /** Validates the parameters and runs the handler; the result is the JSON body, or the reply when it sent one. */
  readonly handle: (request: FastifyRequest, reply: FastifyReply, caller: ApiTokenInfo | null) => Promise<unknown>
}

type Empty = z.ZodObject<Record<string, never>>

type RouteSpec<Q extends z.ZodObject, P extends z.ZodObject, B extends z.ZodObject> = Omit<RouteDef, 'handle' | 'query' | 'params' | 'body'> & {
  readonly query?: Q
  readonly params?: P
  readonly body?: B
  readonly handler: (ctx: RouteContext<z.output<Q>, z.output<P>, z.output<B>>) => Promise<unknown>
}

export function defineRoute<Q extends z.ZodObject = typeof NoQuery, P extends z.ZodObject = Empty, B extends z.ZodObject = Empty>(
  spec: RouteSpec<Q, P, B>,
): RouteDef {
  const { handler, query, params, body, ...rest } = spec
  const querySchema = query ?? NoQuery
  return {
    ...rest,
    query: querySchema,
    ...(params === undefined ? {} : { params }),
    ...(body === undefined ? {} : { body }),
    async handle(request, reply, caller) {
      const parsedParams = (params === undefined ? {} : parsePathParams(params, request.params)) as z.output<P>
      const parsedQuery = parseQuery(querySchema, request.query) as z.output<Q>
      const parsedBody = (body === undefined ? {} : parseBody(body, request.body)) as z.output<B>
      return handler({ query: parsedQuery, params: parsedParams, body: parsedBody, caller, scope: caller?.scope ?? NO_ACCESS, request, reply })
    },
  }
}

/**
 * The scope of a route without a token: a tenant no data belongs to. Such routes
 * never read the store; this only makes a mistake fail closed.
 */
const NO_ACCESS: Scope = { tenant: '\u0000no-access', school: { id: '\u0000no-access', side: 'either' } }
