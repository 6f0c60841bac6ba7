/** `synclog compare`: two syncs of one tenant side by side, and the records whose outcome differs. */
import type { Command } from 'commander'
import { SynclogError } from '../../errors.js'
import { ENTITY_TYPES } from '../../events/change-event.js'
import { UNSCOPED, parseSide } from '../../clickhouse/scope.js'
import { MAX_COMPARE_LIMIT, NOT_LOGGED_NOTE, checkSameTenant } from '../../clickhouse/sync-compare.js'
import type { Scope } from '../../clickhouse/types.js'
import { timeZonesOf } from '../../config/config.js'
import { formatChoices } from '../../export/formats/index.js'
import { collect, contextOf } from '../context.js'
import { parseFormat } from '../output.js'
import { oneOf, positiveInt } from './read.js'

interface CompareCliOptions {
  entity?: string[]
  school?: string
  side?: string
  limit?: string
  format?: string
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(
      `Two syncs of one tenant side by side: counts per data type (A, B and B − A), then the records whose outcome differs (${NOT_LOGGED_NOTE})`,
    )
    .argument('<syncA>', 'the first sync (usually the earlier)')
    .argument('<syncB>', 'the second sync')
    .option('--entity <entity>', `only this data type: ${ENTITY_TYPES.join(', ')}. Repeatable.`, collect)
    .option('--school <schoolId>', "only this school's records and counts")
    .option('--side <side>', 'with --school: the rows whose home school, serving school or either is it (home | serving | either)')
    .option('--limit <n>', `list at most n differing records (at most ${MAX_COMPARE_LIMIT})`, '100')
    .option('--format <format>', `${formatChoices('compare')} (csv: the differing records only)`, 'table')
    .action(async (syncA: string, syncB: string, opts: CompareCliOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormat(opts.format, 'compare')
      const entities = opts.entity?.map((e) => oneOf('--entity', e, ENTITY_TYPES))
      const limit = positiveInt('--limit', opts.limit)
      if (opts.side !== undefined && opts.school === undefined) throw new SynclogError('USAGE', '--side needs --school <schoolId>')
      const cmp = await ctx.withStore('compare', async (store) => {
        let scope: Scope = UNSCOPED
        if (opts.school !== undefined) {
          // A school is a school of a tenant: the tenant of both syncs.
          const a = await store.getSync(UNSCOPED, syncA)
          const b = await store.getSync(UNSCOPED, syncB)
          if (a === null || b === null) throw notFound(a === null ? syncA : syncB)
          checkSameTenant(a, b)
          scope = { tenant: a.tenant, school: { id: opts.school, side: parseSide(opts.side, '--side') } }
        }
        const found = await store.compareSyncs(scope, syncA, syncB, { entities, limit })
        if (found === null) throw notFound((await store.getSync(UNSCOPED, syncA)) === null ? syncA : syncB)
        return found
      })
      const note = cmp.records.length < cmp.differing ? `(more with --limit ${Math.min(cmp.differing, MAX_COMPARE_LIMIT)})` : undefined
      await format.compare(ctx.stdout, cmp, note, timeZonesOf(ctx.config))
    })
}

function notFound(syncId: string): SynclogError {
  return new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
}
