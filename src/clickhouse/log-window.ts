/**
 * The log's default date window. Pure: the adapters pass the clock in.
 */
import { DAY_MS } from '../events/instant.js'
import type { LogFilter } from './types.js'

export const DEFAULT_WINDOW_DAYS = 30

/**
 * The filter, or with `from` = now − 30 days when it names no date, no sync and
 * no record (a sync's rows or a record's history are shown whatever their age).
 */
export function withDefaultWindow(filter: LogFilter, nowMs: number): LogFilter {
  const named =
    filter.from !== undefined ||
    filter.to !== undefined ||
    filter.syncId !== undefined ||
    filter.studentNumber !== undefined ||
    filter.sectionNumber !== undefined ||
    filter.sourcedId !== undefined
  if (named) return filter
  return { ...filter, from: new Date(nowMs - DEFAULT_WINDOW_DAYS * DAY_MS).toISOString() }
}
