/**
 * `synclog serve` as the one owner of a data directory: an import, a reader of the API, an
 * export and an approval work at the same time and give the rows one-at-a-time runs give;
 * and stopping is stopping, whether the signal reaches node or the npx that started it.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { cp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemoNights, type OneRosterTables } from '../../src/demo/district.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { LOG_COLUMNS } from '../../src/events/sync-log-event.js'
import { createToken, startServe, walkPages } from '../support/browser.js'
import { CLI, alive, jsonLines, synclog, tempDir, type CliRun } from '../support/cli.js'

const { night1, night2 } = generateDemoNights({ seed: 31, schoolYear: currentSchoolYear(new Date()) })
/** Night 2 without a third of its student enrollments: after night 1, a full sync deleting that many goes On Hold. */
const night3: OneRosterTables = { ...night2, enrollments: night2.enrollments.filter((e, i) => e.role !== 'student' || i % 3 !== 0) }

/** What differs between two runs of the same commands: times (in sync ids, file names, dates) and directories. */
function normalize(text: string, dir: string): string {
  return text
    .split(dir)
    .join('<dir>')
    .replace(/\d{8}T\d{6}Z/g, '<stamp>')
    .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?/g, '<time>')
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function portRefuses(base: string): Promise<boolean> {
  return fetch(`${base}/openapi.json`).then(
    () => false,
    () => true,
  )
}

let root = ''

beforeAll(async () => {
  root = await tempDir('service-lifecycle')
  await writeOneRosterBundle(join(root, 'night1'), night1)
  await writeOneRosterBundle(join(root, 'night2'), night2)
  await writeOneRosterBundle(join(root, 'night3'), night3)
}, 60_000)

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('one running service, everyone at once', () => {
  it('runs a new night’s import, an API reader, an export and an approval at the same time, with the rows one-at-a-time runs give', async () => {
    const live = join(root, 'live')
    const reference = join(root, 'reference')
    const cli = (dir: string, args: readonly string[]): Promise<CliRun> =>
      synclog([...args, '--data', join(dir, 'data')], { cwd: dir, timeoutMs: 180_000 })
    await mkdir(live)
    // Before: district-a has two nights; district-c has a night On Hold.
    for (const [night, tenant] of [
      ['night1', 'district-a'],
      ['night2', 'district-a'],
      ['night1', 'district-c'],
    ]) {
      expect((await cli(live, ['import', join(root, night!), '--tenant', tenant!])).code).toBe(0)
    }
    const held = await cli(live, ['import', join(root, 'night3'), '--tenant', 'district-c', '--format', 'json'])
    expect(held.code, held.stderr).toBe(3)
    const heldId = (JSON.parse(held.stdout) as { syncId: string }).syncId
    const token = await createToken(join(live, 'data'), 'reviewer', '--tenant', 'district-a')
    await cp(live, reference, { recursive: true })

    const steps = {
      importB: ['import', join(root, 'night2'), '--tenant', 'district-b', '--format', 'json'],
      exportA: ['export', '--name', 'nightly', '--tenant', 'district-a', '--out', 'exports', '--format', 'csv'],
      approveC: ['approve', heldId, '--by', 'registrar', '--reason', 'checked'],
    }
    const service = await startServe(join(live, 'data'))
    let together: [CliRun, CliRun, CliRun, Record<string, unknown>[]]
    try {
      together = await Promise.all([
        cli(live, steps.importB),
        cli(live, steps.exportA),
        cli(live, steps.approveC),
        walkPages(service.base, '/api/v1/log?from=2000-01-01', token) as unknown as Promise<Record<string, unknown>[]>,
      ])
    } finally {
      expect(await service.stop()).toBe(0)
    }
    const [importB, exportA, approveC, pagedA] = together
    const one = {
      importB: await cli(reference, steps.importB),
      exportA: await cli(reference, steps.exportA),
      approveC: await cli(reference, steps.approveC),
    }

    for (const [name, run] of [
      ['importB', importB],
      ['exportA', exportA],
      ['approveC', approveC],
    ] as const) {
      expect(run.code, `${name}: ${run.stderr}`).toBe(one[name].code)
      expect(normalize(run.stdout, live), name).toBe(normalize(one[name].stdout, reference))
    }
    expect(importB.code).toBe(0)
    expect(approveC.stdout).toContain('Completed')
    const files = async (dir: string): Promise<string[]> =>
      Promise.all(
        (await readdir(join(dir, 'exports'))).sort().map(async (f) => normalize(await readFile(join(dir, 'exports', f), 'utf8'), dir)),
      )
    expect(await files(live)).toEqual(await files(reference))

    // The reader saw exactly district-a's rows, none lost or doubled while the others wrote.
    const key = (r: Record<string, unknown>): string => JSON.stringify(LOG_COLUMNS.filter((c) => c !== 'date').map((c) => r[c]))
    const expectedA = jsonLines(
      (await cli(reference, ['log', '--tenant', 'district-a', '--from', '2000-01-01', '--format', 'json'])).stdout,
    )
    expect(expectedA.length).toBeGreaterThan(100)
    expect(pagedA.map(key).sort()).toEqual(expectedA.map(key).sort())

    // And the whole log is the one the same commands give one at a time.
    const everything = async (dir: string): Promise<string[]> =>
      jsonLines((await cli(dir, ['log', '--from', '2000-01-01', '--include-rejected', '--format', 'json'])).stdout)
        .map((r) => normalize(key(r), dir))
        .sort()
    expect(await everything(live)).toEqual(await everything(reference))
  }, 900_000)
})

describe('stopping the service', () => {
  it('stops on SIGTERM, freeing the port, the data-directory lock and the socket', async () => {
    const data = join(root, 'stop-data')
    const service = await startServe(data)
    expect(existsSync(join(data, 'synclog.sock'))).toBe(true)
    expect(await service.stop(20_000)).toBe(0)
    expect(existsSync(join(data, 'synclog.lock'))).toBe(false)
    expect(existsSync(join(data, 'synclog.sock'))).toBe(false)
    expect(await portRefuses(service.base)).toBe(true)
    // The CLI opens the directory itself again.
    const after = await synclog(['syncs', '--data', data])
    expect(after.code, after.stderr).toBe(0)
  }, 120_000)

  it('lets an import in progress complete before it stops, and the CLI that asked gets its summary', async () => {
    const data = join(root, 'import-data')
    const service = await startServe(data)
    let importing: Promise<CliRun> | undefined
    try {
      importing = synclog(['import', join(root, 'night1'), '--tenant', 'district-a', '--format', 'json', '--data', data], {
        timeoutMs: 180_000,
      })
      await waitFor('the import to start in the service', () => existsSync(join(data, 'import-in-progress.json')), 60_000)
    } finally {
      expect(await service.stop(120_000)).toBe(0)
    }
    const imported = await importing
    expect(imported.code, imported.stderr).toBe(0)
    const summary = JSON.parse(imported.stdout) as { syncId: string; status: string; counts: { user: { new: number } } }
    expect(summary).toMatchObject({ status: 'Completed', counts: { user: { new: night1.users.length } } })
    expect(existsSync(join(data, 'import-in-progress.json'))).toBe(false)
    expect(existsSync(join(data, 'synclog.lock'))).toBe(false)
    const syncs = JSON.parse((await synclog(['syncs', '--format', 'json', '--data', data])).stdout) as { syncId: string; status: string }[]
    expect(syncs).toEqual([expect.objectContaining({ syncId: summary.syncId, status: 'Completed' })])
  }, 300_000)

  it('stops when npx, which started it, gets SIGTERM', async () => {
    // A project with synclog installed: `npx synclog` runs node_modules/.bin/synclog through npm and a shell.
    const project = join(root, 'project')
    const data = join(project, 'data')
    await mkdir(join(project, 'node_modules', '.bin'), { recursive: true })
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'district-scripts', version: '1.0.0', private: true }))
    await symlink(CLI, join(project, 'node_modules', '.bin', 'synclog'))
    const npx = spawn('npx', ['--offline', '--no', 'synclog', 'serve', '--port', '0', '--data', data], {
      cwd: project,
      env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let servicePid: number | undefined
    try {
      let out = ''
      let err = ''
      npx.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
      npx.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
      await waitFor(`synclog serve under npx to listen (${err})`, () => /listening on (http:\/\/\S+)/.test(out), 60_000)
      const base = /listening on (http:\/\/\S+)/.exec(out)![1]!
      servicePid = (JSON.parse(readFileSync(join(data, 'synclog.lock'), 'utf8')) as { pid: number }).pid
      expect(servicePid).not.toBe(npx.pid)

      npx.kill('SIGTERM')
      await waitFor('the service to stop', () => !alive(servicePid!), 20_000)
      expect(existsSync(join(data, 'synclog.lock'))).toBe(false)
      expect(existsSync(join(data, 'synclog.sock'))).toBe(false)
      expect(await portRefuses(base)).toBe(true)
    } finally {
      if (servicePid !== undefined && alive(servicePid)) process.kill(servicePid, 'SIGKILL')
      if (npx.exitCode === null && npx.signalCode === null) npx.kill('SIGKILL')
    }
  }, 120_000)
})
