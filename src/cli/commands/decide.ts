/** approve / reject a sync that is On Hold. */
import type { Command } from 'commander'
import { findSync } from '../../processor/index.js'
import { SynclogError } from '../../errors.js'
import { contextOf } from '../context.js'
import { terminalText } from '../../export/terminal-text.js'

function register(program: Command, verb: 'approve' | 'reject'): void {
  program.command(verb)
    .description(verb === 'approve' ? 'Apply a sync that is On Hold' : 'Discard a sync that is On Hold; the state stays as before it')
    .argument('<syncId>')
    .option('--by <name>', 'who decides (recorded with the sync, which API tokens read)', 'an operator')
    .action(async (syncId: string, opts: { by: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const report = await ctx.withPipeline(verb, async (pipeline) => {
        const found = findSync(pipeline.state, syncId)
        if (!found) throw new SynclogError('SYNC_NOT_FOUND', `no sync ${syncId}; list them with: synclog syncs`)
        if (found.info.status !== 'On Hold') throw new SynclogError('SYNC_NOT_ON_HOLD', `sync ${syncId} is ${found.info.status}, not On Hold`)
        return pipeline.apply([{
          type: verb === 'approve' ? 'SyncApproved' : 'SyncRejected', eventId: `${syncId}:${verb}`, tenant: found.tenant, syncId,
          app: found.info.app, occurredAt: new Date().toISOString(), by: opts.by,
        }])
      })
      ctx.stdout.write(`Sync ${terminalText(syncId)} is now ${report.syncs.get(syncId) ?? 'unchanged'}.\n`)
    })
}

export function registerDecisions(program: Command): void {
  register(program, 'approve')
  register(program, 'reject')
}
