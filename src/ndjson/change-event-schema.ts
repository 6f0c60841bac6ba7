/**
 * zod schemas mirroring `ChangeEvent` (src/events/change-event.ts), for change
 * events that arrive as JSON. Objects are strict, so a misspelt key is reported
 * rather than silently read as null. Omitted values take their empty value:
 * scalar fields and `dateLastModified` null, lists [], `metadata` {}, `source`
 * null, `fields` all empty.
 */
import { z } from 'zod'
import { dictOf } from '../dict.js'
import { ENTITY_TYPES, type ChangeEvent, type EntityType } from '../events/change-event.js'

const text = z.string().nullable().default(null)
const list = z.array(z.string()).default([])

const meta = {
  eventId: z.string().min(1),
  tenant: z.string().min(1),
  syncId: z.string().min(1),
  app: z.string(),
  occurredAt: z.iso.datetime({ offset: true }),
}

const syncMode = z.enum(['full', 'delta'])
const entityType = z.enum(ENTITY_TYPES)
const sourcePosition = z.strictObject({ file: z.string(), line: z.number().int().nonnegative() })

const FIELDS = {
  org: z.strictObject({ name: text, type: text, identifier: text, parentSourcedId: text }).prefault({}),
  academicSession: z.strictObject({ title: text, type: text, startDate: text, endDate: text, parentSourcedId: text, schoolYear: text }).prefault({}),
  course: z.strictObject({ title: text, schoolYearSourcedId: text, courseCode: text, grades: list, orgSourcedId: text, subjects: list }).prefault({}),
  user: z.strictObject({
    enabledUser: text, orgSourcedIds: list, role: text, username: text, givenName: text, familyName: text,
    middleName: text, identifier: text, email: text, grades: list,
  }).prefault({}),
  class: z.strictObject({
    title: text, courseSourcedId: text, classCode: text, classType: text, location: text, schoolSourcedId: text,
    termSourcedIds: list, periods: list, grades: list, subjects: list,
  }).prefault({}),
  enrollment: z.strictObject({
    classSourcedId: text, schoolSourcedId: text, userSourcedId: text, role: text, primary: text, beginDate: text, endDate: text,
  }).prefault({}),
} as const

/**
 * `metadata`: extension names are data, so every own key is kept, `__proto__`
 * and `constructor` included (z.record drops `__proto__`), in a null-prototype dict.
 */
const metadata = z.unknown().transform((value, ctx) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'expected an object of string values' })
    return z.NEVER
  }
  const entries = Object.entries(value)
  const bad = entries.find(([, v]) => typeof v !== 'string')
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', path: [bad[0]], message: `expected a string, got ${bad[1] === null ? 'null' : typeof bad[1]}` })
    return z.NEVER
  }
  return dictOf(entries as [string, string][]) as Readonly<Record<string, string>>
}).default({})

function recordChanged<E extends EntityType, F extends z.ZodType>(entity: E, fields: F) {
  return z.strictObject({
    type: z.literal('RecordChanged'),
    ...meta,
    entity: z.literal(entity),
    sourcedId: z.string(),
    op: z.enum(['upsert', 'delete']),
    dateLastModified: text,
    fields,
    metadata,
    source: sourcePosition.nullable().default(null),
  })
}

export const recordChangedSchema = z.discriminatedUnion('entity', [
  recordChanged('org', FIELDS.org), recordChanged('academicSession', FIELDS.academicSession), recordChanged('course', FIELDS.course),
  recordChanged('user', FIELDS.user), recordChanged('class', FIELDS.class), recordChanged('enrollment', FIELDS.enrollment),
])

export const changeEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('SyncStarted'), ...meta, modes: z.partialRecord(entityType, syncMode) }),
  z.strictObject({ type: z.literal('SyncEnded'), ...meta }),
  z.strictObject({ type: z.literal('SyncFailed'), ...meta, reason: z.string() }),
  z.strictObject({ type: z.literal('SyncApproved'), ...meta, by: z.string() }),
  z.strictObject({ type: z.literal('SyncRejected'), ...meta, by: z.string() }),
  recordChangedSchema,
  z.strictObject({
    type: z.literal('RecordUnreadable'), ...meta, entity: entityType, sourcedId: text, field: z.string(), message: z.string(),
    source: sourcePosition.nullable().default(null),
  }),
])

/** Compile-time proof that a parsed event is a `ChangeEvent`. */
export function asChangeEvent(parsed: z.output<typeof changeEventSchema>): ChangeEvent {
  return parsed
}
