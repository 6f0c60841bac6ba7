/**
 * npm run soak -- [--scale small|medium] [--seed N] [--keep]
 *
 * Stream mode under faults (scripts/soak/run-soak.ts): prints what it does as it goes, then
 * the report: lost, duplicated and wrong rows against an embedded ingest of the same events
 * (all must be 0: the exit code is 1 otherwise) and the recovery time after each fault.
 * Needs the build (npm run build), java for Kafka and the registry (scripts/services.sh) and
 * Debian's python3-confluent-kafka. What it does and a report: docs/stream-mode.md#soak.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { SOAK_PLANS, runSoak } from './soak/run-soak.js'
import { renderReport, soakPassed } from './soak/report.js'

const USAGE = `usage: npm run soak -- [--scale small|medium] [--seed N] [--keep]

  --scale   small (8 districts, 7 minutes of faults) or medium (24 districts, 15 minutes); default small
  --seed    seed of the workload and of the fault moments (default 1)
  --keep    keep the run's directory (.cache/soak/<run>: logs of every process, both data directories)`

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`)
  process.exit(2)
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        scale: { type: 'string', default: 'small' },
        seed: { type: 'string', default: '1' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (e) {
    return fail((e as Error).message)
  }
})()
if (values.help === true) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const scale = values.scale!
if (scale !== 'small' && scale !== 'medium') fail(`--scale must be small or medium (got '${scale}')`)
const seed = Number(values.seed)
if (!Number.isInteger(seed) || seed < 0) fail(`--seed must be a whole number (got '${values.seed}')`)

const root = resolve(import.meta.dirname, '..')
const runDir = join(root, '.cache', 'soak', new Date().toISOString().replace(/[:.]/g, '-'))
await mkdir(runDir, { recursive: true })
let code = 1
try {
  const report = await runSoak({ plan: SOAK_PLANS[scale], seed, runDir, say: (line) => process.stderr.write(`${line}\n`) })
  process.stdout.write(`${renderReport(`npm run soak -- --scale ${scale} --seed ${seed}`, report)}\n`)
  code = soakPassed(report) ? 0 : 1
} catch (e) {
  process.stderr.write(`soak: ${(e as Error).message}\n`)
} finally {
  if (values.keep === true) process.stderr.write(`kept ${relative(process.cwd(), runDir)}\n`)
  else await rm(runDir, { recursive: true, force: true })
}
process.exit(code)
