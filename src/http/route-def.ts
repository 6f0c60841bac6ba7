/**
 * One route of the API as data: its URL, the zod schemas of its parameters and
 * response, and its handler. The server registers routes from these and the
 * OpenAPI document is generated from the same list, so the two cannot drift.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { z } from 'zod'
import type { Scope } from '../clickhouse/types.js'
import type { ApiTokenInfo } from './api-tokens.js'
import { parsePathParams, parseQuery } from './request-params.js'
import { NoQuery } from './schemas.js'

export interface JsonResponse {
  readonly schema: z.ZodType
  readonly description: string
}

export interface FileResponse {
  readonly contentType: string
  readonly description: string
}

export interface RouteContext<Q, P> {
  readonly query: Q
  readonly params: P
  /** The caller's token; null only on routes without auth. */
  readonly caller: ApiTokenInfo | null
  /** The scope every store call gets: the token's. */
  readonly scope: Scope
  readonly request: FastifyRequest
  readonly reply: FastifyReply
}

export interface RouteDef {
  readonly method: 'GET'
  /** Fastify's form: `/api/v1/syncs/:syncId`. */
  readonly url: string
  readonly operationId: string
  readonly tag: string
  readonly summary: string
  readonly description?: string
  /** Needs `Authorization: Bearer <token>`. */
  readonly auth: boolean
  readonly params?: z.ZodObject
  readonly query: z.ZodObject
  readonly response: { readonly json: JsonResponse } | { readonly file: FileResponse }
  /** May answer 404 (an unknown sync). */
  readonly notFound?: boolean
  /** Reads the store (so may answer 503). */
  readonly readsStore: boolean
  /** Validates the parameters and runs the handler; the result is the JSON body, or the reply when it sent one. */
  readonly handle: (request: FastifyRequest, reply: FastifyReply, caller: ApiTokenInfo | null) => Promise<unknown>
}

type RouteSpec<Q extends z.ZodObject, P extends z.ZodObject> = Omit<RouteDef, 'handle' | 'query' | 'params'> & {
  readonly query?: Q
  readonly params?: P
  readonly handler: (ctx: RouteContext<z.output<Q>, z.output<P>>) => Promise<unknown>
}

export function defineRoute<Q extends z.ZodObject = typeof NoQuery, P extends z.ZodObject = z.ZodObject<Record<string, never>>>(
  spec: RouteSpec<Q, P>,
): RouteDef {
  const { handler, query, params, ...rest } = spec
  const querySchema = query ?? NoQuery
  return {
    ...rest,
    query: querySchema,
    ...(params === undefined ? {} : { params }),
    async handle(request, reply, caller) {
      const parsedParams = (params === undefined ? {} : parsePathParams(params, request.params)) as z.output<P>
      const parsedQuery = parseQuery(querySchema, request.query) as z.output<Q>
      return handler({ query: parsedQuery, params: parsedParams, caller, scope: caller?.scope ?? NO_ACCESS, request, reply })
    },
  }
}

/**
 * The scope of a route without a token: a tenant no data belongs to. Such routes
 * never read the store; this only makes a mistake fail closed.
 */
const NO_ACCESS: Scope = { tenant: '\u0000no-access', school: { id: '\u0000no-access', side: 'either' } }
