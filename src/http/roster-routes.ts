/**
 * Rosters in time over HTTP: `GET /api/v1/roster?section=…&at=…` (a section's students on
 * a date) and `?student=…&at=…` (a student's sections that day), rebuilt from the applied
 * rows of the sync log (src/clickhouse/roster-at.ts) within the token's scope.
 */
import { z } from 'zod'
import { dateOrInstant, nonBlank } from '../clickhouse/log-filter.js'
import type { RosterAt, RosterKey } from '../clickhouse/roster-at.js'
import type { TimeZones } from '../export/local-time.js'
import { HttpProblem } from './http-errors.js'
import type { ReadStore } from './read-store.js'
import { defineRoute, type RouteDef } from './route-def.js'
import { apiSchemas, sameShape } from './schemas.js'

export const RosterQuerySchema = z.strictObject({
  section: nonBlank('The section number: its students.').optional(),
  student: nonBlank('The student number: their sections.').optional(),
  at: dateOrInstant("A date (through the end of that day in the tenant's time zone) or an instant; default: now.").optional(),
  tenant: nonBlank("Only this tenant (its time zone reads the date); a district token's own tenant by default.").optional(),
})

const RosterLineSchema = z
  .object({
    tenant: z.string(),
    sourcedId: z.string().meta({ description: "The student enrollment's sourcedId." }),
    studentNumber: z.string(),
    studentName: z.string(),
    courseNumber: z.string(),
    courseName: z.string(),
    sectionNumber: z.string(),
    servingSchoolId: z.string(),
    servingSchool: z.string(),
    homeSchoolId: z.string(),
    homeSchool: z.string(),
    beginDate: z
      .string()
      .meta({ description: 'The start date as the log last changed it since the line was created; empty when it never did.' }),
    endDate: z
      .string()
      .meta({ description: 'The end date as the log last changed it since the line was created; empty when it never did.' }),
    since: z.string().meta({
      description: 'When the line was created (ISO instant of its Created Roster row); empty when the log does not reach back that far.',
    }),
    syncId: z.string().meta({ description: "The sync of the line's latest roster row." }),
  })
  .register(apiSchemas, { id: 'RosterLine', description: 'A student in a section, as the latest applied roster row recorded it.' })

export const RosterAtSchema = z
  .object({
    section: z.string().optional().meta({ description: 'The section number asked for.' }),
    student: z.string().optional().meta({ description: 'The student number asked for.' }),
    tenant: z.string().optional().meta({ description: 'The tenant asked for.' }),
    at: z.string().meta({
      description: "The instant the roster was read at (ISO): a date's last millisecond in the tenant's zone, or the instant given.",
    }),
    lines: z.array(RosterLineSchema),
  })
  .register(apiSchemas, { id: 'RosterAt', description: "A section's students, or a student's sections, at an instant." })
sameShape<z.infer<typeof RosterAtSchema>, RosterAt>(true)

interface RosterRouteDeps {
  readonly store: ReadStore
  readonly now: () => number
  readonly zones: TimeZones
}

export function rosterRoutes(prefix: string, { store, now, zones }: RosterRouteDeps): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      url: `${prefix}/roster`,
      operationId: 'rosterAt',
      tag: 'log',
      auth: true,
      readsStore: true,
      summary: "Who was enrolled in a section on a date, or a student's sections that day, rebuilt from the sync log",
      description:
        'Give exactly one of section and student. For each student enrollment, the latest roster row (Created, Deleted, Updated Roster Start / End Date) ' +
        'at or before `at` decides, counting only rows of syncs that were applied (not On Hold, Preview or Rejected). ' +
        "A school token sees the lines whose latest row names its school on the token's side.",
      query: RosterQuerySchema,
      response: { json: { schema: RosterAtSchema, description: 'The roster.' } },
      handler: async ({ scope, query }) => {
        if ((query.section === undefined) === (query.student === undefined))
          throw new HttpProblem(400, 'BAD_REQUEST', 'give exactly one of the query parameters section or student')
        const key: RosterKey = query.section !== undefined ? { section: query.section } : { student: query.student! }
        const tenant = query.tenant ?? scope.tenant
        const at = query.at ?? new Date(now()).toISOString()
        const zone = tenant === undefined ? zones.fallback : zones.zoneOf(tenant)
        return store.rosterAt(scope, { key, at, zone, ...(query.tenant === undefined ? {} : { tenant: query.tenant }) })
      },
    }),
  ]
}
