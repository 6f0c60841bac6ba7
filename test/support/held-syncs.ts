/**
 * Syncs that go On Hold, for the tests of reviewing them: the demo district's first
 * night, then its second night without a third of its student enrollments, which over
 * the first deletes enough enrollments to cross the hold threshold. Both are written as
 * OneRoster bundles and imported through the real CLI.
 */
import { join } from 'node:path'
import { generateDemoNights, type OneRosterTables } from '../../src/demo/district.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { synclog } from './cli.js'

type HeldBundle = 'night1' | 'held'

export interface HeldNights {
  /** Where the bundles are (`<dir>/night1`, `<dir>/held`). */
  readonly dir: string
  /** The data directory the nights are imported into (`<dir>/data`). */
  readonly data: string
  readonly night1: OneRosterTables
}

/** Writes the two bundles of the demo district (this `seed`, this school year) under `dir`. */
export async function writeHeldNights(dir: string, seed: number): Promise<HeldNights> {
  const { night1, night2 } = generateDemoNights({ seed, schoolYear: currentSchoolYear(new Date()) })
  const held: OneRosterTables = { ...night2, enrollments: night2.enrollments.filter((e, i) => e.role !== 'student' || i % 3 !== 0) }
  await writeOneRosterBundle(join(dir, 'night1'), night1)
  await writeOneRosterBundle(join(dir, 'held'), held)
  return { dir, data: join(dir, 'data'), night1 }
}

/** `synclog import <bundle> --tenant <tenant> --format json`: its exit code (0, or 3 for a hold) and its JSON summary. */
export async function importNight(
  nights: HeldNights,
  bundle: HeldBundle,
  tenant: string,
): Promise<{ code: number | null; run: Record<string, unknown> }> {
  const run = await synclog(['import', join(nights.dir, bundle), '--tenant', tenant, '--format', 'json', '--data', nights.data], {
    timeoutMs: 120_000,
  })
  if (run.code !== 0 && run.code !== 3) throw new Error(`import ${bundle} --tenant ${tenant} exited with ${run.code}: ${run.stderr}`)
  return { code: run.code, run: JSON.parse(run.stdout) as Record<string, unknown> }
}

/** The first night, then the held one, as `tenant`: the id of the sync On Hold. */
export async function holdOne(nights: HeldNights, tenant: string): Promise<string> {
  await importNight(nights, 'night1', tenant)
  const second = await importNight(nights, 'held', tenant)
  if (second.code !== 3)
    throw new Error(`${tenant}'s held night exited with ${second.code}, not 3 (On Hold): ${JSON.stringify(second.run)}`)
  return String(second.run['syncId'])
}
