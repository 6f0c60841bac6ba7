/**
 * Query and path parameters through their zod schema, with errors that name the
 * parameter: an unknown one (with the closest known name when it looks like a typo),
 * one given twice, a missing one, a bad value.
 */
import { z } from 'zod'
import { dictOf, ownValue } from '../dict.js'
import { HttpProblem, quoted } from './http-errors.js'
import { CONTAINS_PREFIX } from './schemas.js'

type ParamSchema = z.ZodObject

/** Whether a field of the schema takes a list (a repeatable query parameter). */
export function isListField(field: z.ZodType): boolean {
  let s: z.ZodType = field
  for (;;) {
    const def = s._zod.def
    if (def.type === 'array') return true
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') {
      s = (def as unknown as { innerType: z.ZodType }).innerType
      continue
    }
    return false
  }
}

/** Parses query parameters (Fastify gives a string, or an array when repeated). */
export function parseQuery<S extends ParamSchema>(schema: S, raw: unknown): z.output<S> {
  return parseWith(schema, raw, 'query parameter')
}

/** Parses a JSON request body (an object of fields). */
export function parseBody<S extends ParamSchema>(schema: S, raw: unknown): z.output<S> {
  return parseWith(schema, raw, 'body field')
}

export function parsePathParams<S extends ParamSchema>(schema: S, raw: unknown): z.output<S> {
  return parseWith(schema, raw, 'path parameter')
}

function parseWith<S extends ParamSchema>(schema: S, raw: unknown, what: string): z.output<S> {
  const input = toRecord(raw)
  const shape = schema.shape as Record<string, z.ZodType>
  const known = Object.keys(shape)
  const unknown = Object.keys(input).filter((k) => !Object.hasOwn(shape, k))
  if (unknown.length > 0) throw unknownParameters(unknown, known, what)

  // Every key is one of the schema's own (unknown ones were refused above); still, keys are input: a dict.
  const normalized = dictOf(Object.entries(input).map(([key, value]) => {
    const field = ownValue(shape, key)
    const list = field !== undefined && isListField(field)
    if (Array.isArray(value) && !list) {
      throw new HttpProblem(400, 'BAD_PARAMETER', `${what} ${key} is given ${value.length} times; give it once`)
    }
    return [key, list && !Array.isArray(value) ? [value] : value] as const
  }))
  const parsed = schema.safeParse(normalized)
  if (parsed.success) return parsed.data
  throw new HttpProblem(400, 'BAD_PARAMETER', parsed.error.issues.map((issue) => describeIssue(schema, issue, normalized, what)).join('; '))
}

function toRecord(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object') throw new HttpProblem(400, 'BAD_REQUEST', 'the parameters could not be read')
  return { ...(raw as Record<string, unknown>) }
}

function describeIssue(schema: ParamSchema, issue: z.core.$ZodIssue, input: Record<string, unknown>, what: string): string {
  const [key, index] = issue.path
  if (typeof key !== 'string') return issue.message
  let value = ownValue(input, key)
  if (typeof index === 'number' && Array.isArray(value)) value = value[index]
  if (value === undefined) {
    const field = ownValue(schema.shape as Record<string, z.ZodType>, key)
    const description = field === undefined ? undefined : z.globalRegistry.get(field)?.description
    return `${what} ${key} is required${description === undefined ? '' : ` (${description.replace(/\.$/, '')})`}`
  }
  const message = issue.message.startsWith('must') ? issue.message : `is invalid: ${issue.message}`
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
