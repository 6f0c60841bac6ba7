/**
 * The OpenAPI 3.1 document of the API, generated from the route list and the
 * zod schemas the routes validate with (zod's JSON Schema is draft 2020-12,
 * which is OpenAPI 3.1's own dialect).
 */
import { z } from 'zod'
import type { RouteDef } from './route-def.js'
import { isListField } from './request-params.js'
import { apiSchemas, ErrorSchema } from './schemas.js'
import { SESSION_COOKIE } from './session.js'
import { DEFAULT_BODY_LIMIT } from './server-limits.js'

type Json = Record<string, unknown>

const COMPONENT = (id: string): string => `#/components/schemas/${id}`

/** `/api/v1/syncs/:syncId` → `/api/v1/syncs/{syncId}`. */
export function openApiPath(fastifyUrl: string): string {
  return fastifyUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
}

/** Drops what OpenAPI does not want inside a schema object, and the safe-integer bounds zod adds to every integer. */
function tidy(schema: Json): Json {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk)
    if (typeof value !== 'object' || value === null) return value
    return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => {
      if (k === '$schema' || k === '$id') return []
      if ((k === 'minimum' || k === 'maximum') && Math.abs(Number(v)) === Number.MAX_SAFE_INTEGER) return []
      return [[k, walk(v)]]
    }))
  }
  return walk(schema) as Json
}

function schemaRef(schema: z.ZodType): Json {
  const id = apiSchemas.get(schema)?.id
  return id === undefined ? tidy(z.toJSONSchema(schema) as Json) : { $ref: COMPONENT(id) }
}

function parametersOf(shape: Record<string, z.ZodType>, where: 'path' | 'query'): Json[] {
  return Object.entries(shape).map(([name, field]) => {
    const { description, ...schema } = tidy(z.toJSONSchema(field, { io: 'input' }) as Json)
    const parameter: Json = { name, in: where, required: where === 'path' || !field.safeParse(undefined).success }
    if (typeof description === 'string') parameter.description = description
    parameter.schema = schema
    if (where === 'query' && isListField(field)) Object.assign(parameter, { style: 'form', explode: true })
    return parameter
  })
}

function problem(description: string): Json {
  return { description, content: { 'application/json': { schema: schemaRef(ErrorSchema) } } }
}

function operationOf(route: RouteDef): Json {
  const { response } = route
  const ok: Json = 'json' in response
    ? { description: response.json.description, content: { 'application/json': { schema: schemaRef(response.json.schema) } } }
    : 'file' in response
      ? {
        description: response.file.description,
        headers: {
          'Content-Disposition': { description: 'attachment; filename="…" (downloads only)', schema: { type: 'string' } },
        },
        content: { [response.file.contentType]: { schema: { type: 'string', format: 'binary' } } },
      }
      : { description: response.empty }
  const responses: Json = {
    ['empty' in response ? '204' : String('json' in response ? response.json.status ?? 200 : 200)]: ok,
    '400': problem('A parameter is unknown, repeated, missing or invalid; the message names it.'),
  }
  if (route.auth || route.body !== undefined) responses['401'] = problem('No token (an `Authorization: Bearer <token>` header or a session cookie), or it is unknown or revoked.')
  if (route.permission !== undefined) responses['403'] = problem(`The token's role may not do this (it needs the \`${route.permission}\` permission: see the token roles).`)
  if (route.notFound) responses['404'] = problem('No such sync, or it is outside the token\'s scope.')
  Object.assign(responses, Object.fromEntries((route.problems ?? []).map(([status, description]) => [String(status), problem(description)])))
  if (route.body !== undefined) responses['413'] = problem(`The body is larger than ${route.bodyLimit ?? DEFAULT_BODY_LIMIT} bytes.`)
  if (route.readsStore) responses['503'] = problem('The store is unavailable; retry after the `Retry-After` seconds.')
  responses['500'] = problem('An internal error; the message gives the request id to look up in the server log.')
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    security: route.auth ? [{ bearerAuth: [] }, { sessionCookie: [] }] : [],
    parameters: [
      ...parametersOf((route.params?.shape ?? {}) as Record<string, z.ZodType>, 'path'),
      ...parametersOf(route.query.shape as Record<string, z.ZodType>, 'query'),
    ],
    ...(route.body === undefined ? {} : {
      requestBody: { required: true, content: { 'application/json': { schema: tidy(z.toJSONSchema(route.body, { io: 'input' }) as Json) } } },
    }),
    ...(route.upload === undefined ? {} : {
      requestBody: {
        required: true, description: route.upload.description,
        content: Object.fromEntries(route.upload.contentTypes.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
      },
    }),
    responses,
  }
}

export function openApiDocument(routes: readonly RouteDef[], version: string): Json {
  const paths = new Map<string, Json>()
  for (const route of routes) {
    const path = openApiPath(route.url)
    paths.set(path, { ...paths.get(path), [route.method.toLowerCase()]: operationOf(route) })
  }
  const { schemas } = z.toJSONSchema(apiSchemas, { uri: COMPONENT })
  return {
    openapi: '3.1.0',
    info: {
      title: 'synclog HTTP API',
      version,
      description: 'The sync log of K-12 rostering data: sync history, summaries, drill-down, the log with every filter, '
        + 'record history and CSV/Excel downloads, and the web page at `/` that shows them. Every request carries a scoped API token (`synclog token create`); '
        + 'no parameter can widen what the token may see. Errors are `{ "error": { "code", "message" } }`.',
    },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths: Object.fromEntries(paths),
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from `synclog token create` (slk_…).' },
        sessionCookie: {
          type: 'apiKey', in: 'cookie', name: SESSION_COOKIE,
          description: 'The same token, set as an HttpOnly, SameSite=Strict cookie by `POST /api/v1/session` (the web page signs in this way).',
        },
      },
      schemas: Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, tidy(s as Json)])),
    },
  }
}
