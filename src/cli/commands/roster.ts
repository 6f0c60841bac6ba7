/** `synclog roster`: a section's students or a student's sections on a date, rebuilt from the sync log. */
import type { Command } from 'commander'
import { SynclogError } from '../../errors.js'
import { UNSCOPED } from '../../clickhouse/scope.js'
import { dateOrInstant } from '../../clickhouse/log-filter.js'
import type { RosterKey } from '../../clickhouse/roster-at.js'
import { timeZonesOf } from '../../config/config.js'
import { formatChoices } from '../../export/formats/index.js'
import { contextOf } from '../context.js'
import { parseOption } from '../filter-options.js'
import { parseFormat } from '../output.js'

interface RosterOptions {
  section?: string
  student?: string
  at?: string
  tenant?: string
  format?: string
}

function rosterKey(opts: RosterOptions): RosterKey {
  if ((opts.section === undefined) === (opts.student === undefined))
    throw new SynclogError('USAGE', 'roster needs exactly one of --section <sectionNumber> or --student <studentNumber>')
  return opts.section !== undefined ? { section: opts.section } : { student: opts.student! }
}

export function registerRoster(program: Command): void {
  program
    .command('roster')
    .description(
      "Who was enrolled in a section on a date (--section), or a student's sections that day (--student), rebuilt from the applied rows of the sync log",
    )
    .option('--section <sectionNumber>', "a section's students, by section number")
    .option('--student <studentNumber>', "a student's sections, by student number")
    .option('--at <date>', "a date (through the end of that day in the tenant's time zone) or an instant (default: now)")
    .option('--tenant <district>', 'only this tenant (its time zone reads the date)')
    .option('--format <format>', formatChoices('roster'), 'table')
    .action(async (opts: RosterOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, 'roster')
      const key = rosterKey(opts)
      const at = parseOption('at', dateOrInstant(), opts.at) ?? new Date().toISOString()
      const zones = timeZonesOf(ctx.config)
      const zone = opts.tenant === undefined ? zones.fallback : zones.zoneOf(opts.tenant)
      const roster = await ctx.withStore('roster', (store) => store.rosterAt(UNSCOPED, { key, at, zone, tenant: opts.tenant }))
      await format.roster(ctx.stdout, roster, zones)
    })
}
