/** The soak's report, as scripts/soak.ts prints it and docs/stream-mode.md quotes it. */
import type { SoakReport } from './run-soak.js'

/** No row lost, duplicated or wrong, in the log and in the syncs. */
export function soakPassed(r: SoakReport): boolean {
  return [r.log, r.syncs].every((c) => c.lost === 0 && c.duplicated === 0 && c.wrong === 0)
}

/** The report as the docs quote it. */
export function renderReport(command: string, r: SoakReport): string {
  const lines = [
    command,
    '',
    `workload: ${r.plan.tenants} districts x 2 nights; ${r.published.kafkajs} events published with kafkajs, ${r.published.librdkafka} with librdkafka (${r.published.retries} publishes retried)`,
    `instances: ${r.plan.processors} processors, ${r.plan.projectors} projectors (one group each), ${r.plan.partitions} partitions${r.plan.addAndRemove ? '; one of each added, then removed' : ''}`,
    `kills: ${r.kills.processor} processor SIGKILLs, ${r.kills.projector} projector SIGKILLs; processes that exited on their own: ${r.unexpectedExits.length}`,
    '',
    '| | expected | in the store | lost | duplicated | wrong |',
    '|---|---|---|---|---|---|',
    `| log rows | ${r.log.expected} | ${r.log.actual} | ${r.log.lost} | ${r.log.duplicated} | ${r.log.wrong} |`,
    `| syncs | ${r.syncs.expected} | ${r.syncs.actual} | ${r.syncs.lost} | ${r.syncs.duplicated} | ${r.syncs.wrong} |`,
    '',
    '| fault | at (s) | recovery (s) |',
    '|---|---|---|',
    ...[...r.faults]
      .sort((a, b) => a.at - b.at)
      .map((f) => `| ${f.fault} | ${f.at} | ${f.superseded === true ? 'killed again first' : (f.recoveryS ?? 'not within 300')} |`),
    '',
    `caught up ${r.convergedAfterS ?? 'never (15 min bound)'} s after the schedule; ${r.totalS} s in all`,
  ]
  if (r.registryMismatches.length > 0) lines.push(`registry ids changed by its restart: ${r.registryMismatches.join('; ')}`)
  for (const u of r.unexpectedExits) lines.push(`exited on its own: ${u.name} (code ${u.code}, signal ${u.signal})`)
  const differing = [...new Set([...r.log.differingSyncs, ...r.syncs.differingSyncs])]
  if (differing.length > 0) lines.push(`syncs that differ from the reference: ${differing.join(', ')}`)
  for (const e of [...r.log.examples, ...r.syncs.examples]) lines.push(e)
  return lines.join('\n')
}
