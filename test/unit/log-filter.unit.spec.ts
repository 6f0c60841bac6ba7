/**
 * The log's filters, defined once (src/clickhouse/log-filter.ts): every filter
 * is an option of `synclog log` and a query parameter of the API with the same
 * value, and adds its condition to the store's query. A new filter needs a
 * sample value in SAMPLES (the type fails to compile without it).
 */
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import {
  COMMAND_LINE,
  LOG_FILTERS,
  LogFilterQuery,
  QUERY_STRING,
  filterConditions,
  logFilterOf,
  type LogFilter,
  type LogFilterName,
} from '../../src/clickhouse/log-filter.js'
import { UNSCOPED } from '../../src/clickhouse/scope.js'
import { addLogFilterOptions, logFilterOfOptions } from '../../src/cli/filter-options.js'

const NOW = Date.parse('2024-10-01T12:00:00Z')

/** One good value of every filter, as a query string carries it. */
const SAMPLES: { readonly [N in LogFilterName]: string | readonly string[] } = {
  tenant: 'district-a',
  sync: 'night-2',
  school: 'sch-1',
  side: 'home',
  action: ['Deleted Roster', 'Skipped'],
  outcome: ['Skipped'],
  app: ['powerschool'],
  entity: ['user', 'class'],
  from: '2024-09-01T08:00:00+02:00',
  to: '2024-09-30',
  cause: "class 'CHEM-02' deleted",
  includeRejected: 'true',
  includeProposed: 'true',
}

/** The same values as command-line arguments. */
function argsOf(values: Readonly<Record<string, string | readonly string[]>>): string[] {
  return Object.entries(values).flatMap(([name, value]) => {
    const flag = COMMAND_LINE.spell(name)
    if (LOG_FILTERS[name as LogFilterName].arg === null) return [flag]
    return [value].flat().flatMap((v) => [flag, v])
  })
}

function fromCommandLine(args: readonly string[]): LogFilter {
  const command = addLogFilterOptions(new Command('log')).exitOverride()
  command.parse([...args], { from: 'user' })
  return logFilterOfOptions(command.opts(), NOW)
}

const fromQueryString = (query: Readonly<Record<string, unknown>>): LogFilter => logFilterOf(LogFilterQuery.parse(query), NOW, QUERY_STRING)

function conditions(filter: LogFilter): { where: string[]; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {}
  return { where: filterConditions(UNSCOPED, filter, params), params }
}

describe('the log filters', () => {
  it('build the same store filter from the command line as from a query string', () => {
    expect(fromCommandLine(argsOf(SAMPLES))).toEqual(fromQueryString(SAMPLES))
    expect(fromCommandLine([...argsOf(SAMPLES), '--contains', 'studentName=smi', '--contains', 'field=email'])).toEqual(
      fromQueryString({ ...SAMPLES, 'contains.studentName': 'smi', 'contains.field': 'email' }),
    )
    for (const [name, value] of Object.entries(SAMPLES)) {
      const one = name === 'side' ? { school: SAMPLES.school, side: value } : { [name]: value }
      expect(fromCommandLine(argsOf(one)), name).toEqual(fromQueryString(one))
    }
  })

  it('each add a condition to the log query', () => {
    const none = conditions(fromQueryString({ from: '2024-01-01' }))
    for (const [name, value] of Object.entries(SAMPLES)) {
      const base = name === 'side' ? { from: '2024-01-01', school: SAMPLES.school } : { from: '2024-01-01' }
      const without = name === 'side' ? conditions(fromQueryString(base)) : none
      expect(conditions(fromQueryString({ ...base, [name]: value })), name).not.toEqual(without)
    }
  })

  it('read a date as its whole UTC day and an instant with an offset as the same UTC instant, on both surfaces', () => {
    const { where, params } = conditions(fromCommandLine(['--from', '2024-09-01T08:00:00+02:00', '--to', '2024-09-30']))
    expect(params).toMatchObject({ from: '2024-09-01 06:00:00.000', to: '2024-10-01 00:00:00.000' })
    expect(where).toContain("date >= toDateTime64({from:String}, 3, 'UTC')")
    expect(where).toContain("date < toDateTime64({to:String}, 3, 'UTC')")
    expect(conditions(fromQueryString({ from: '2024-09-01T08:00:00+02:00', to: '2024-09-30' })).params).toEqual(params)
  })

  it('cover the last 30 days unless a date or a sync is named', () => {
    expect(fromCommandLine([])).toEqual({ from: '2024-09-01T12:00:00.000Z' })
    expect(fromQueryString({})).toEqual({ from: '2024-09-01T12:00:00.000Z' })
    expect(fromCommandLine(['--sync', 's1'])).toEqual({ syncId: 's1' })
  })

  it('refuse a bad value naming the filter as the user wrote it, and what it accepts', () => {
    expect(() => fromCommandLine(['--from', 'yesterday'])).toThrow(
      '--from must be a date (YYYY-MM-DD) or an ISO-8601 instant such as 2024-09-01T06:00:00Z or 2024-09-01T08:00:00+02:00 (no zone = UTC) (got "yesterday")',
    )
    expect(() => fromCommandLine(['--entity', 'person'])).toThrow(
      '--entity must be one of: org, academicSession, course, user, class, enrollment (got "person")',
    )
    expect(() => fromCommandLine(['--side', 'home'])).toThrow('--side needs --school')
    expect(() => fromQueryString({ side: 'home' })).toThrow('query parameter side needs school')
    expect(() => fromCommandLine(['--contains', 'nosuchcolumn=x'])).toThrow(
      /--contains takes column=text with a column among: date, action/,
    )
  })

  it('are listed in the help of synclog log with their descriptions', () => {
    const command = addLogFilterOptions(new Command('log'))
    for (const [name, f] of Object.entries(LOG_FILTERS)) {
      const option = command.options.find((o) => o.long === COMMAND_LINE.spell(name))
      expect(option?.description, name).toContain(f.description)
    }
  })
})
