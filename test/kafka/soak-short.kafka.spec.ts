/**
 * The soak's short version (scripts/soak/run-soak.ts, plan `short`): stream mode as separate
 * processes, two processors and two projectors writing through the `synclog serve` that owns
 * the embedded store, a workload published with kafkajs and librdkafka, a few SIGKILLs of each
 * role and one broker restart (on a broker of its own, not the suite's); then the store equals
 * an embedded ingest of the same events, row by row. `npm run soak` runs the long one.
 */
import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { SOAK_PLANS, runSoak } from '../../scripts/soak/run-soak.js'
import { renderReport } from '../../scripts/soak/report.js'
import { tempDir } from '../support/cli.js'

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('the short soak', () => {
  it('loses, duplicates and alters no row through processor and projector kills and a broker restart', async () => {
    const runDir = await tempDir('soak')
    dirs.push(runDir)
    const lines: string[] = []
    const report = await runSoak({ plan: SOAK_PLANS.short, seed: 3, runDir, say: (line) => lines.push(line) })
    const text = `${renderReport('short soak', report)}\n${lines.join('\n')}`
    expect(report.kills.processor, text).toBe(SOAK_PLANS.short.processorKills)
    expect(report.kills.projector, text).toBe(SOAK_PLANS.short.projectorKills)
    expect(report.published.librdkafka, text).toBeGreaterThan(0)
    expect(report.published.kafkajs, text).toBeGreaterThan(0)
    expect(report.log.expected, text).toBeGreaterThan(0)
    expect({ log: report.log, syncs: report.syncs }, text).toMatchObject({
      log: { lost: 0, duplicated: 0, wrong: 0, actual: report.log.expected },
      syncs: { lost: 0, duplicated: 0, wrong: 0, actual: report.syncs.expected },
    })
    expect(
      report.faults.filter((f) => f.recoveryS === null && f.superseded !== true),
      text,
    ).toEqual([])
  }, 900_000)
})
