/**
 * A request whose parameters the route's zod schema refused, answered with errors
 * that name the parameter: an unknown one (with the closest known name when it looks
 * like a typo), one given twice, a missing one, a bad value. Fastify validates with
 * the schema (fastify-type-provider-zod); this words its issues.
 */
import type { FastifyRequest } from 'fastify'
import type { ZodFastifySchemaValidationError } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ownValue } from '../dict.js'
import { HttpProblem, quoted } from './http-errors.js'
import { CONTAINS_PREFIX } from '../clickhouse/log-filter.js'

/** The parts of a request a route validates: how a message names them, and where the request holds them. */
const PARTS: ReadonlyMap<string, { readonly what: string; readonly input: (r: FastifyRequest) => unknown }> = new Map([
  ['querystring', { what: 'query parameter', input: (r: FastifyRequest) => r.query }],
  ['params', { what: 'path parameter', input: (r: FastifyRequest) => r.params }],
  ['body', { what: 'body field', input: (r: FastifyRequest) => r.body }],
])

/** The answer to a request whose `part` (querystring, params, body) failed its schema with these issues. */
export function parameterProblem(issues: readonly ZodFastifySchemaValidationError[], part: string, request: FastifyRequest): HttpProblem {
  const { what, input: inputOf } = PARTS.get(part) ?? { what: 'parameter', input: () => undefined }
  const schema: unknown = ownValue((request.routeOptions.schema ?? {}) as Record<string, unknown>, part)
  const shape = (schema instanceof z.ZodObject ? schema.shape : {}) as Record<string, z.ZodType>
  const unknown = issues.flatMap((issue) => (issue.keyword === 'unrecognized_keys' ? (issue.params.keys as string[]) : []))
  if (unknown.length > 0) return unknownParameters(unknown, Object.keys(shape), what)
  const raw = inputOf(request)
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
  return new HttpProblem(400, 'BAD_PARAMETER', issues.map((issue) => describeIssue(issue, shape, input, what)).join('; '))
}

function describeIssue(
  issue: ZodFastifySchemaValidationError,
  shape: Record<string, z.ZodType>,
  input: Record<string, unknown>,
  what: string,
): string {
  const [key, index] = issue.instancePath.split('/').slice(1)
  if (key === undefined || key === '')
    return what === 'body field' ? 'the body must be a JSON object' : (issue.message ?? 'the parameters are invalid')
  let value = ownValue(input, key)
  if (Array.isArray(value) && index === undefined) return `${what} ${key} is given ${value.length} times; give it once`
  if (index !== undefined && Array.isArray(value)) value = value[Number(index)]
  if (value === undefined) {
    const field = ownValue(shape, key)
    const description = field === undefined ? undefined : z.globalRegistry.get(field)?.description
    return `${what} ${key} is required${description === undefined ? '' : ` (${description.replace(/\.$/, '')})`}`
  }
  const message = issue.message?.startsWith('must') === true ? issue.message : `is invalid: ${issue.message ?? 'not allowed'}`
  return `${what} ${key} ${message} (got ${quoted(value)})`
}

function unknownParameters(unknown: readonly string[], known: readonly string[], what: string): HttpProblem {
  const named = unknown.map((k) => {
    const guess = closest(k, known)
    return guess === undefined ? quoted(k) : `${quoted(k)} (did you mean ${quoted(guess)}?)`
  })
  const plain = known.filter((k) => !k.startsWith(CONTAINS_PREFIX))
  const containsCount = known.length - plain.length
  const accepted = [...plain, ...(containsCount > 0 ? [`${CONTAINS_PREFIX}<column>`] : [])]
  const takes = accepted.length === 0 ? `this endpoint takes no ${what}s` : `this endpoint takes: ${accepted.join(', ')}`
  return new HttpProblem(400, 'UNKNOWN_PARAMETER', `unknown ${what}${unknown.length > 1 ? 's' : ''} ${named.join(', ')}; ${takes}`)
}

/** The known name a typo most likely meant, if one is close enough. */
function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: { name: string; distance: number } | undefined
  for (const k of known) {
    const d = lower === k.toLowerCase() ? 0 : editDistance(lower, k.toLowerCase())
    if (best === undefined || d < best.distance) best = { name: k, distance: d }
  }
  if (best === undefined) return undefined
  return best.distance <= Math.max(2, Math.floor(best.name.length / 5)) ? best.name : undefined
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Number.POSITIVE_INFINITY
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
