/**
 * `synclog demo`: the main job on the embedded default, end to end, with data it
 * makes itself: a small district and three nights of OneRoster exports. Night 2 is
 * previewed, then applied with a reason; night 3, an export that lost one school's
 * enrollments, goes On Hold and is rejected with a reason, leaving the roster as it was.
 */
import { UNSCOPED } from '../../clickhouse/scope.js'
import { isUncausedError } from '../../clickhouse/cause-groups.js'
import { existsSync } from 'node:fs'
import { readdir, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { Command } from 'commander'
import { generateDemoNights, type OneRosterTables } from '../../demo/district.js'
import { writeOneRosterBundle } from '../../demo/write-oneroster.js'
import { decideSync, type DecisionRequest } from '../../pipeline/sync-decisions.js'
import { currentSchoolYear } from '../../demo/school-year.js'
import { writeLogXlsx } from '../../export/xlsx-log-writer.js'
import { writeSyncReports } from '../../export/sync-report.js'
import { SynclogError } from '../../errors.js'
import { contextOf } from '../context.js'
import { importBundle } from './import.js'
import { table } from '../../export/formats/index.js'
import { makeDirectory } from '../../paths/make-directory.js'
import { timeZonesOf } from '../../config/config.js'

const MARKER = 'SYNCLOG-DEMO'
const DEMO_ACTIONS = [
  'Created Roster',
  'Deleted Roster',
  'Updated Roster Start Date',
  'Updated Roster End Date',
  'Updated Section Data',
  'Invalidated Section',
  'Skipped',
  'Invalid',
  'Merged',
  'Excluded',
]
const TENANT = 'emerson'

/**
 * Night 3: night 2 as an SIS export that lost every enrollment of one school (the one
 * with the most), which a full sync would turn into that many deleted rosters.
 */
function lostSchoolNight(night2: OneRosterTables): { night3: OneRosterTables; school: string; lost: number } {
  const schoolOf = new Map(night2.classes.map((c) => [c.sourcedId, c.schoolSourcedId]))
  const perSchool = new Map<string, number>()
  for (const e of night2.enrollments) {
    const school = schoolOf.get(e.classSourcedId) ?? ''
    perSchool.set(school, (perSchool.get(school) ?? 0) + 1)
  }
  const [school, lost] = [...perSchool].reduce((a, b) => (b[1] > a[1] ? b : a))
  const name = night2.orgs.find((o) => o.sourcedId === school)?.name ?? school
  return {
    night3: { ...night2, enrollments: night2.enrollments.filter((e) => schoolOf.get(e.classSourcedId) !== school) },
    school: name,
    lost,
  }
}

/** Empties the demo directory, refusing to touch a directory that holds anything but an earlier demo. */
async function resetDemoDir(dir: string): Promise<void> {
  if (existsSync(dir)) {
    const entries = await readdir(dir)
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new SynclogError(
        'USAGE',
        `${dir} is not empty and was not made by synclog demo; pass --data <new dir> to run the demo elsewhere`,
      )
    }
    await rm(dir, { recursive: true, force: true })
  }
  await makeDirectory(dir)
  await writeFile(join(dir, MARKER), 'Made by `synclog demo`; deleted and rebuilt on each run.\n')
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Generate a small district with three nightly OneRoster exports: import night 1, preview then apply night 2, hold and reject night 3',
    )
    .option('--seed <n>', 'seed of the generated district', '7')
    .addHelpText('after', '\nThe demo works in ./synclog-demo (or --data), which it rebuilds on every run.')
    .action(async (opts: { seed: string }, cmd: Command) => {
      if (!/^\d{1,9}$/.test(opts.seed)) throw new SynclogError('USAGE', `--seed must be a whole number (got '${opts.seed}')`)
      const ctx = contextOf(cmd, { data: './synclog-demo', logLevel: 'warn' })
      const dir = ctx.config.dataDir
      const out = ctx.stdout
      const rel = (p: string): string => relative(ctx.cwd, p) || '.'
      await resetDemoDir(dir)
      const { night1, night2, story, changes } = generateDemoNights({ seed: Number(opts.seed), schoolYear: currentSchoolYear(new Date()) })
      const district = night1.orgs.find((o) => o.type === 'district')?.name ?? 'the demo district'
      const school = night1.classes.find((c) => c.sourcedId === changes.removedClass.classId)?.schoolSourcedId ?? '<school id>'
      const input1 = join(dir, 'input', 'night1')
      const input2 = join(dir, 'input', 'night2')
      const input3 = join(dir, 'input', 'night3')
      const { night3, school: lostSchool, lost } = lostSchoolNight(night2)
      await writeOneRosterBundle(input1, night1)
      await writeOneRosterBundle(input2, night2)
      await writeOneRosterBundle(input3, night3)
      out.write(
        `Generated ${district}: ${night1.users.length} users, ${night1.classes.length} sections, ${night1.enrollments.length} enrollments.\n`,
      )
      out.write(`Night 2 changes:\n${story.map((s) => `  - ${s}`).join('\n')}\n`)
      out.write(`Night 3: the SIS export lost all ${lost} enrollments of ${lostSchool}.\n\n`)

      await ctx.withPipeline('demo', async (pipeline) => {
        const zones = timeZonesOf(ctx.config)
        const decide = async (syncId: string, decision: DecisionRequest['decision'], reason: string): Promise<void> => {
          const at = new Date().toISOString()
          await decideSync(pipeline, { syncId, decision, reason, by: 'the data manager', scope: UNSCOPED, at })
          const run = await pipeline.store.getSync(UNSCOPED, syncId)
          out.write(`${decision === 'approve' ? 'Approved' : 'Rejected'} by the data manager ("${reason}"): now ${run?.status ?? '?'}.\n`)
        }
        const first = await importBundle(ctx, pipeline, input1, { tenant: TENANT, app: 'oneroster-csv', quiet: true })

        out.write('== Night 2, previewed first: nothing is applied until someone approves ==\n')
        const second = await importBundle(ctx, pipeline, input2, { tenant: TENANT, app: 'oneroster-csv', quiet: true, preview: true })
        const previewed = await pipeline.store.summary(UNSCOPED, second.syncId, { bySchool: false })
        if (previewed) await table.summary(out, previewed, zones)
        const causes = await pipeline.store.causeGroups(UNSCOPED, second.syncId)
        if (causes !== null) {
          out.write(`\nIts errors by root cause (synclog report ${second.syncId} --group):\n`)
          const own = (await pipeline.store.reportRows(UNSCOPED, second.syncId)).filter(isUncausedError)
          await table.causes(out, causes, own, zones)
        }
        out.write('\n')
        await decide(second.syncId, 'approve', "matches the registrar's list of schedule changes")

        out.write(`\n== Night 3: ${lost} roster deletions at ${lostSchool} cross the hold threshold ==\n`)
        const third = await importBundle(ctx, pipeline, input3, { tenant: TENANT, app: 'oneroster-csv', quiet: true })
        const held = await pipeline.store.getSync(UNSCOPED, third.syncId)
        out.write(`${held?.status ?? '?'}: ${held?.message ?? ''}\n`)
        await decide(third.syncId, 'reject', `the export lost ${lostSchool}'s enrollments; the SIS team re-exports tonight`)

        out.write('\n== Sync history ==\n')
        await table.syncs(out, await pipeline.store.listSyncs(UNSCOPED, { tenant: TENANT }), zones)
        out.write('\n== Night 2 by school ==\n')
        const summary = await pipeline.store.summary(UNSCOPED, second.syncId, { bySchool: true })
        if (summary) await table.summary(out, summary, zones)
        out.write('\n== Night 2 in the sync log (a few rows of each action) ==\n')
        const sample = []
        for (const action of DEMO_ACTIONS)
          sample.push(...(await pipeline.store.queryLog(UNSCOPED, { syncId: second.syncId, actions: [action] }, { limit: 3 })).rows)
        await table.logPage(out, sample, undefined, zones)
        const xlsx = join(dir, 'sync-log.xlsx')
        const rows = await writeLogXlsx(xlsx, pipeline.store.streamLog(UNSCOPED, { tenant: TENANT, from: '1900-01-01' }), {
          timeZones: zones,
        })
        const reports = await writeSyncReports(
          join(dir, 'reports'),
          second.syncId,
          await pipeline.store.reportRows(UNSCOPED, second.syncId),
        )
        out.write(`\nWrote ${rel(xlsx)} (${rows} rows) and ${reports.length} error report(s) in ${rel(join(dir, 'reports'))}/.\n`)
        out.write(
          [
            '',
            'Try next:',
            `  npx synclog syncs --data ${rel(dir)}`,
            `  npx synclog summary ${second.syncId} --by-school --data ${rel(dir)}`,
            `  npx synclog log --data ${rel(dir)} --action "Deleted Roster"`,
            `  npx synclog log --data ${rel(dir)} --contains studentName=smi --format json`,
            `  npx synclog drilldown ${second.syncId} --entity enrollment --outcome Deleted --school ${school} --data ${rel(dir)}`,
            `  npx synclog history --student <student number> --data ${rel(dir)}`,
            `  npx synclog import <your OneRoster folder or zip> --tenant <district>   (uses ./synclog-data)`,
            '',
            'Review it in a browser (the web page at http://127.0.0.1:8080/ signs in with the token):',
            `  npx synclog token create --name me --tenant ${TENANT} --data ${rel(dir)}`,
            `  npx synclog serve --data ${rel(dir)}`,
            '',
          ].join('\n'),
        )
        ctx.setExitCode(Math.max(first.exitCode, second.exitCode))
      })
    })
}
