import { resolve } from 'node:path'
import type { Command } from 'commander'
import { changeEventsOf, describeIssue } from '../../ndjson/read-ndjson.js'
import { contextOf } from '../context.js'
import { terminalText } from '../../export/terminal-text.js'
import { exitCodeFor } from '../exit-codes.js'

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('Fold change events written as JSON lines (one ChangeEvent per line, see schemas/change-event.avsc)')
    .argument('<file>', 'an .ndjson file')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd)
      let issues = 0
      const events = changeEventsOf(
        resolve(ctx.cwd, file),
        (issue) => {
          issues++
          ctx.stderr.write(`${terminalText(describeIssue(file, issue))}\n`)
        },
        ctx.config.limits,
      )
      const report = await ctx.withPipeline('ingest', (pipeline) => pipeline.apply(events))
      // Ids, keys and reasons come from the file: shown escaped, never as terminal controls.
      for (const r of report.rejected) ctx.stderr.write(`${terminalText(`${file}: event ${r.eventId} rejected: ${r.reason}`)}\n`)
      for (const [syncId, status] of report.syncs) ctx.stdout.write(`${terminalText(syncId)}\t${status}\n`)
      ctx.stdout.write(
        `${report.events} events folded, ${report.rowsWritten} log rows written, ${issues} unreadable line(s), ${report.rejected.length} rejected, ${report.ignored} redelivered\n`,
      )
      ctx.setExitCode(exitCodeFor(report.syncs.values()))
    })
}
