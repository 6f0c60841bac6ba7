/**
 * The data set the HTTP API and web page tests (and the screenshot script) run on:
 * two nights of the demo district imported through the real CLI, and the school
 * whose rows best show the home/serving split.
 */
import { join } from 'node:path'
import type { LogRecord } from '../../src/clickhouse/types.js'
import { generateDemoNights, type DemoNights } from '../../src/demo/district.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { synclog } from './cli.js'

export interface DemoDataSet {
  /** The data directory the nights were imported into. */
  readonly data: string
  readonly nights: DemoNights
}

/** The demo district's two nights (seed 7) in this school year. */
export function demoNights(): DemoNights {
  return generateDemoNights({ seed: 7, schoolYear: currentSchoolYear(new Date()) })
}

/**
 * Two nights of the demo district written as OneRoster bundles under `dir` and
 * imported through the CLI: night 1 and night 2 as tenant district-a, night 1
 * again as district-b. Run it before `synclog serve` (imports need the lock).
 */
export async function importDemoDataSet(dir: string, nights: DemoNights = demoNights()): Promise<DemoDataSet> {
  const data = join(dir, 'data')
  await writeOneRosterBundle(join(dir, 'night1'), nights.night1)
  await writeOneRosterBundle(join(dir, 'night2'), nights.night2)
  for (const [bundle, tenant] of [
    ['night1', 'district-a'],
    ['night2', 'district-a'],
    ['night1', 'district-b'],
  ] as const) {
    const run = await synclog(['import', join(dir, bundle), '--tenant', tenant, '--format', 'json', '--data', data])
    if (run.code !== 0) throw new Error(`synclog import ${bundle} --tenant ${tenant} exited with ${run.code}: ${run.stderr}`)
  }
  return { data, nights }
}

/**
 * The school of `tenant`'s own district on the most rows whose home and serving schools
 * differ (ties: the lower id). A visiting student's home school, in another district,
 * does not count: the district holds none of its records.
 */
export function busiestCrossSchool(rows: readonly LogRecord[], tenant: string): string {
  const cross = new Map<string, number>()
  for (const r of rows) {
    if (r.tenant !== tenant || r.homeSchoolId === '' || r.servingSchoolId === '' || r.homeSchoolId === r.servingSchoolId) continue
    const schools = r.homeDistrictId === r.servingDistrictId ? [r.homeSchoolId, r.servingSchoolId] : [r.servingSchoolId]
    for (const s of schools) cross.set(s, (cross.get(s) ?? 0) + 1)
  }
  const best = [...cross.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]
  if (best === undefined) throw new Error(`no student of ${tenant} is served away from home`)
  return best[0]
}
