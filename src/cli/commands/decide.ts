/** approve / reject a sync On Hold or in Preview (src/pipeline/sync-decisions.ts decides; the HTTP API uses the same). */
import type { Command } from 'commander'
import { UNSCOPED } from '../../clickhouse/scope.js'
import { SynclogError } from '../../errors.js'
import type { Decision } from '../../pipeline/sync-decisions.js'
import { contextOf } from '../context.js'
import { terminalText } from '../../export/terminal-text.js'

function register(program: Command, verb: Decision): void {
  program
    .command(verb)
    .description(
      verb === 'approve' ? 'Apply a sync On Hold or in Preview' : 'Discard a sync On Hold or in Preview; the state stays as before it',
    )
    .argument('<syncId>')
    .requiredOption('--reason <text>', 'why (required; recorded with the sync and shown in the history, the API and the page)')
    .option('--by <name>', 'who decides (recorded with the sync, which API tokens read)', 'an operator')
    .action(async (syncId: string, opts: { by: string; reason: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const reason = opts.reason.trim()
      if (reason === '')
        throw new SynclogError('USAGE', `--reason must say why the sync is ${verb === 'approve' ? 'approved' : 'rejected'}`)
      const outcome = await ctx.decide({ syncId, decision: verb, by: opts.by, reason, scope: UNSCOPED, at: new Date().toISOString() })
      if (outcome.kind === 'not-found') throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
      if (outcome.kind === 'not-on-hold')
        throw new SynclogError('SYNC_NOT_ON_HOLD', `sync ${syncId} is ${outcome.status}, not On Hold or Preview`)
      if (outcome.kind === 'stale-preview') throw new SynclogError('SYNC_NOT_ON_HOLD', `sync ${syncId} cannot be applied: ${outcome.why}`)
      if (outcome.kind === 'sent') {
        ctx.stdout.write(
          `Sync ${terminalText(syncId)}: the decision is published to the stream; its status changes once the processor has folded it (synclog syncs).\n`,
        )
        return
      }
      ctx.stdout.write(`Sync ${terminalText(syncId)} is now ${outcome.status ?? 'unchanged'}.\n`)
    })
}

export function registerDecisions(program: Command): void {
  register(program, 'approve')
  register(program, 'reject')
}
