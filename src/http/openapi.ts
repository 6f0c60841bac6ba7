/**
 * The OpenAPI 3.1 document of the API: @fastify/swagger collects the routes, and
 * fastify-type-provider-zod turns the zod schemas they validate with into JSON
 * Schema (draft 2020-12, OpenAPI 3.1's own dialect). Added here: what every route
 * may refuse (from its config: a token, a permission, the store) and its security.
 */
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import type { RouteOptions } from 'fastify'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { SESSION_COOKIE } from './session.js'
import { DEFAULT_BODY_LIMIT } from './server-limits.js'

type Json = Record<string, unknown>

const ERROR_REF = { $ref: '#/components/schemas/Error' }

function problem(description: string): Json {
  return { description, content: { 'application/json': { schema: ERROR_REF } } }
}

/** The refusals a route may answer, by status. */
function refusalsOf(route: RouteOptions, hasBody: boolean): [string, Json][] {
  const config = route.config ?? {}
  const refusals: (readonly [number, string])[] = [[400, 'A parameter is unknown, repeated, missing or invalid; the message names it.']]
  if (config.auth === true || hasBody)
    refusals.push([401, 'No token (an `Authorization: Bearer <token>` header or a session cookie), or it is unknown or revoked.'])
  if (config.permission !== undefined)
    refusals.push([403, `The token's role may not do this (it needs the \`${config.permission}\` permission: see the token roles).`])
  if (config.notFound === true) refusals.push([404, "No such sync, or it is outside the token's scope."])
  refusals.push(...(config.problems ?? []))
  if (hasBody) refusals.push([413, `The body is larger than ${route.bodyLimit ?? DEFAULT_BODY_LIMIT} bytes.`])
  if (config.readsStore === true) refusals.push([503, 'The store is unavailable; retry after the `Retry-After` seconds.'])
  refusals.push([500, 'An internal error; the message gives the request id to look up in the server log.'])
  return refusals.map(([status, description]) => [String(status), problem(description)])
}

const documentRoute: NonNullable<FastifyDynamicSwaggerOptions['transform']> = (input) => {
  const { schema, url } = jsonSchemaTransform(input) as { schema: Json; url: string }
  if (schema.hide === true) return { schema, url }
  const route = input.route as RouteOptions
  const upload = route.config?.upload
  return {
    url,
    schema: {
      ...schema,
      security: route.config?.auth === true ? [{ bearerAuth: [] }, { sessionCookie: [] }] : [],
      ...(upload === undefined
        ? {}
        : {
            body: {
              description: upload.description,
              content: Object.fromEntries(upload.contentTypes.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
            },
          }),
      response: { ...(schema.response as Json), ...Object.fromEntries(refusalsOf(route, schema.body !== undefined)) },
    },
  }
}

/** The document's schema components, without those no operation refers to (zod lists every registered schema twice: as input and as output). */
function referencedOnly(document: Json): Json {
  const components = document.components as { schemas?: Record<string, unknown> } | undefined
  const all = new Map(Object.entries(components?.schemas ?? {}))
  const kept = new Set<string>()
  const visit = (value: unknown): void => {
    for (const [, id] of JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      if (id !== undefined && !kept.has(id) && all.has(id)) {
        kept.add(id)
        visit(all.get(id))
      }
    }
  }
  visit(document.paths)
  const tags = new Set(
    Object.values(document.paths as Record<string, Record<string, { tags?: string[] }>>).flatMap((ops) =>
      Object.values(ops).flatMap((op) => op.tags ?? []),
    ),
  )
  return {
    ...document,
    tags: [...tags].map((name) => ({ name })),
    components: { ...components, schemas: Object.fromEntries([...all].filter(([id]) => kept.has(id))) },
  }
}

/** @fastify/swagger's options: the document's head, and the zod schemas of the routes as its body. */
export function openApiOptions(version: string): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'synclog HTTP API',
        version,
        description:
          'The sync log of K-12 rostering data: sync history, summaries, drill-down, the log with every filter, ' +
          'record history and CSV/Excel downloads, and the web page at `/` that shows them. Every request carries a scoped API token (`synclog token create`); ' +
          'no parameter can widen what the token may see. Errors are `{ "error": { "code", "message" } }`.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from `synclog token create` (slk_…).' },
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description:
              'The same token, set as an HttpOnly, SameSite=Strict cookie by `POST /api/v1/session` (the web page signs in this way).',
          },
        },
      },
    },
    transform: documentRoute,
    transformObject: (input) => referencedOnly(jsonSchemaTransformObject(input) as Json) as ReturnType<typeof jsonSchemaTransformObject>,
  }
}
