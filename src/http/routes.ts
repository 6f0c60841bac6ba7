/**
 * The routes of `/api/v1`: each passes the caller's scope to every store call,
 * and the caller's filters only ever narrow it (the store ANDs the scope in).
 */
import { LogFilterQuery, QUERY_STRING, logFilterOf } from '../clickhouse/log-filter.js'
import { DISTRICT_KEY, type CountCell } from '../clickhouse/types.js'
import { csv, logFileFormats } from '../export/formats/index.js'
import { fileStamp, logDownloadPath, logDownloadsSchema, sendDownload } from './downloads.js'
import { meIn } from './api-tokens.js'
import type { TimeZones } from '../export/local-time.js'
import { causeRoutes } from './cause-routes.js'
import { syncNotFound } from './http-errors.js'
import type { ReadStore } from './read-store.js'
import { defineRoute, type RouteDef } from './route-def.js'
import {
  DrillDownQuery,
  DrillDownSchema,
  HistoryQuery,
  LogCountSchema,
  LogPageQuery,
  LogPageSchema,
  MeSchema,
  RollupListSchema,
  SchoolListSchema,
  RollupQuery,
  SummaryQuery,
  SyncIdParams,
  SyncListQuery,
  SyncListSchema,
  SyncRunSchema,
  SyncSummarySchema,
} from './schemas.js'

export const API_PREFIX = '/api/v1'

export interface ApiDeps {
  readonly store: ReadStore
  /** The time zone of each tenant: how people read its times, and what a date search matches. */
  readonly zones: TimeZones
  /** The clock of the log's default 30-day window and of file names. */
  readonly now: () => number
}

/** The store answers null for a sync that is unknown or outside the scope: both are a 404. */
function found<T>(value: T | null, syncId: string): T {
  if (value === null) throw syncNotFound(syncId)
  return value
}

const LOG_FILTER_NOTE = "Every filter narrows the token's scope; none widens it. Without from, to or sync, rows of the last 30 days."

export function apiRoutes({ store, now, zones }: ApiDeps): RouteDef[] {
  return [
    ...causeRoutes(API_PREFIX, store),
    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/me`,
      operationId: 'getMe',
      tag: 'tokens',
      auth: true,
      readsStore: false,
      summary: 'The token the request carries: its name, scope, role and what it may do beyond reading',
      response: { json: { schema: MeSchema, description: 'The token.' } },
      handler: async ({ caller }) => meIn(caller!, zones),
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/schools`,
      operationId: 'listSchools',
      tag: 'syncs',
      auth: true,
      readsStore: true,
      summary: 'The schools the token may see, by tenant (for a school picker)',
      response: { json: { schema: SchoolListSchema, description: 'The schools.' } },
      handler: async ({ scope }) => ({ schools: await store.listSchools(scope) }),
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/syncs`,
      operationId: 'listSyncs',
      tag: 'syncs',
      auth: true,
      readsStore: true,
      summary: 'Sync history, newest first',
      query: SyncListQuery,
      response: { json: { schema: SyncListSchema, description: 'The syncs.' } },
      handler: async ({ scope, query }) => ({ syncs: await store.listSyncs(scope, query) }),
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/syncs/:syncId`,
      operationId: 'getSync',
      tag: 'syncs',
      auth: true,
      readsStore: true,
      notFound: true,
      summary: 'One sync at its latest status',
      params: SyncIdParams,
      response: { json: { schema: SyncRunSchema, description: 'The sync.' } },
      handler: async ({ scope, params }) => found(await store.getSync(scope, params.syncId), params.syncId),
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/syncs/:syncId/summary`,
      operationId: 'getSyncSummary',
      tag: 'syncs',
      auth: true,
      readsStore: true,
      notFound: true,
      summary: "A sync's counts per entity type, and per school when asked",
      description: 'A school-scoped token sees the counts of records counted under its school.',
      params: SyncIdParams,
      query: SummaryQuery,
      response: { json: { schema: SyncSummarySchema, description: 'The summary.' } },
      handler: async ({ scope, params, query }) =>
        found(await store.summary(scope, params.syncId, { bySchool: query.bySchool ?? false }), params.syncId),
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/syncs/:syncId/drilldown`,
      operationId: 'drillDown',
      tag: 'syncs',
      auth: true,
      readsStore: true,
      notFound: true,
      summary: 'The log rows behind one count of a summary (sync × entity × school × outcome)',
      description:
        'Omit school for the count over every school the token may see; omit outcome for the Total; give outcome twice (Merged, Excluded) for Duplicates.',
      params: SyncIdParams,
      query: DrillDownQuery,
      response: { json: { schema: DrillDownSchema, description: 'The count and a page of its rows.' } },
      handler: async ({ scope, params, query }) => {
        const cell: CountCell = { syncId: params.syncId, entity: query.entity }
        if (query.outcome !== undefined) cell.outcomes = [...new Set(query.outcome)]
        if (query.school !== undefined) cell.schoolId = query.school === DISTRICT_KEY ? '' : query.school
        const page = { limit: query.limit, ...(query.cursor === undefined ? {} : { cursor: query.cursor }) }
        return found(await store.drillDown(scope, cell, page), params.syncId)
      },
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/syncs/:syncId/report.csv`,
      operationId: 'downloadSyncReport',
      tag: 'downloads',
      auth: true,
      readsStore: true,
      notFound: true,
      summary: "A sync's error rows (Skipped, Invalid, Excluded, Merged) as a CSV download",
      params: SyncIdParams,
      response: { file: { contentType: csv.file.contentType, description: csv.fileNote } },
      handler: async ({ scope, params, reply }) => {
        const run = await store.getSync(scope, params.syncId)
        if (run === null) throw syncNotFound(params.syncId)
        const rows = await store.reportRows(scope, run.syncId)
        return sendDownload(reply, rows, csv, `sync-${run.syncId}-errors.csv`)
      },
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/log`,
      operationId: 'queryLog',
      tag: 'log',
      auth: true,
      readsStore: true,
      summary: 'A page of the sync log, newest first, with every filter',
      description: `${LOG_FILTER_NOTE} Walk the pages by passing nextCursor back as cursor.`,
      query: LogPageQuery,
      response: { json: { schema: LogPageSchema, description: 'A page of rows and the cursor of the next one.' } },
      handler: async ({ scope, query }) => {
        const { limit, cursor, ...filters } = query
        return store.queryLog(scope, logFilterOf(filters, now(), QUERY_STRING, zones), {
          limit,
          ...(cursor === undefined ? {} : { cursor }),
        })
      },
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/log/count`,
      operationId: 'countLog',
      tag: 'log',
      auth: true,
      readsStore: true,
      summary: 'How many rows of the sync log match the filters (and how many distinct records)',
      description: LOG_FILTER_NOTE,
      query: LogFilterQuery,
      response: { json: { schema: LogCountSchema, description: 'The counts.' } },
      handler: async ({ scope, query }) => store.countLog(scope, logFilterOf(query, now(), QUERY_STRING, zones)),
    }),

    // One download of the log per log file format (src/export/formats), and their list for the page's menu.
    ...logFileFormats().map((format) =>
      defineRoute({
        method: 'GET',
        url: `${API_PREFIX}${logDownloadPath(format)}`,
        operationId: `downloadLog${format.name[0]!.toUpperCase()}${format.name.slice(1)}`,
        tag: 'downloads',
        auth: true,
        readsStore: true,
        summary: `Every row of the sync log that matches, as a ${format.label} download (streamed)`,
        description: LOG_FILTER_NOTE,
        query: LogFilterQuery,
        response: { file: { contentType: format.file.contentType, description: format.fileNote ?? `A ${format.label} file.` } },
        handler: async ({ scope, query, reply }) =>
          sendDownload(
            reply,
            store.streamLog(scope, logFilterOf(query, now(), QUERY_STRING, zones)),
            format,
            `sync-log-${fileStamp(now())}.${format.file.extension}`,
            zones,
          ),
      }),
    ),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/log/downloads`,
      operationId: 'listLogDownloads',
      tag: 'downloads',
      auth: true,
      readsStore: false,
      summary: 'The formats the log downloads in, for a download menu: each with its label and URL',
      response: { json: { schema: logDownloadsSchema(), description: 'The downloads.' } },
      handler: async () => ({
        downloads: logFileFormats().map((f) => ({ format: f.name, label: f.label, url: `${API_PREFIX}${logDownloadPath(f)}` })),
      }),
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/history`,
      operationId: 'recordHistory',
      tag: 'log',
      auth: true,
      readsStore: true,
      summary: 'Every log row about one student, section or record, across syncs, newest first',
      query: HistoryQuery,
      response: { json: { schema: LogPageSchema, description: 'A page of rows and the cursor of the next one.' } },
      handler: async ({ scope, query }) =>
        store.recordHistory(
          scope,
          { kind: query.kind, id: query.id },
          { limit: query.limit, ...(query.cursor === undefined ? {} : { cursor: query.cursor }) },
        ),
    }),

    defineRoute({
      method: 'GET',
      url: `${API_PREFIX}/rollups/daily`,
      operationId: 'dailyRollups',
      tag: 'syncs',
      auth: true,
      readsStore: true,
      summary: 'Counts per tenant, app and day the syncs started',
      query: RollupQuery,
      response: { json: { schema: RollupListSchema, description: 'The days.' } },
      handler: async ({ scope, query }) => ({ rollups: await store.dailyRollups(scope, query) }),
    }),
  ]
}
