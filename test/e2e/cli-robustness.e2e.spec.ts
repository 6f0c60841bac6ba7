/**
 * What a user meets when things go wrong: hostile files, missing manifests,
 * holds, a busy data directory, a crash in the middle of an import.
 */
import { spawn } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { describe, expect, it } from 'vitest'
import { generateDemoNights } from '../../src/demo/district.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { CLI, jsonLines, synclog, tempDir } from '../support/cli.js'

const MANIFEST = [
  'propertyName,value',
  'manifest.version,1.0',
  'oneroster.version,1.1',
  ...[
    'academicSessions',
    'categories',
    'classes',
    'classResources',
    'courses',
    'courseResources',
    'demographics',
    'enrollments',
    'lineItems',
    'orgs',
    'resources',
    'results',
    'users',
  ].map((f) => `file.${f},${['academicSessions', 'classes', 'courses', 'enrollments', 'orgs', 'users'].includes(f) ? 'bulk' : 'absent'}`),
].join('\n')

async function hostileBundle(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'manifest.csv'), MANIFEST)
  await writeFile(
    join(dir, 'orgs.csv'),
    'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nd1,,,Emerson,district,,\nsch1,,,Fremont High,school,,d1\n',
  )
  await writeFile(
    join(dir, 'academicSessions.csv'),
    'sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\nt1,,,Fall,semester,2024-08-15,2025-01-15,,2025\n',
  )
  await writeFile(
    join(dir, 'courses.csv'),
    'sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes\nc1,,,,English,0001,,sch1,,\n',
  )
  await writeFile(
    join(dir, 'classes.csv'),
    'sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\nk1,,,English 1,,c1,101,scheduled,R1,sch1,t1,,,1\n',
  )
  const big = 'x'.repeat(10 * 1024 * 1024)
  await writeFile(
    join(dir, 'users.csv'),
    [
      'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password',
      'tch1,,,true,sch1,teacher,jstaff,,James,Staff,,T1,james@x.org,,,,,',
      's1,,,true,sch1,student,s1,,Sam,"=HYPERLINK(""http://evil"",""x"")",,S1,,,,,09,',
      's2,,,true,sch1,student,s2,,Broken "quote,Lee,,S2,,,,,09,',
      's3,,,true,sch1,student,s3,,Too,Few',
      `s4,,,true,sch1,student,s4,,${big},Long,,S4,,,,,09,`,
      's5,,,true,sch1,student,s5,,Ann,Ok,,S5,,,,,09,',
    ].join('\n'),
  )
  await writeFile(
    join(dir, 'enrollments.csv'),
    [
      'sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate',
      'e0,,,k1,sch1,tch1,teacher,true,,',
      'e1,,,k1,sch1,s1,student,false,,',
      'e5,,,k1,sch1,s5,student,false,,',
    ].join('\n'),
  )
}

describe('bad input', () => {
  it('reports each malformed row by file and line, keeps every good row and neutralizes formulas in exports', async () => {
    const dir = await tempDir('hostile')
    const data = join(dir, 'data')
    await hostileBundle(join(dir, 'in'))
    const run = await synclog(['import', join(dir, 'in'), '--tenant', 't', '--format', 'json', '--data', data])
    expect(run.code).toBe(0)
    const summary = JSON.parse(run.stdout) as { status: string; counts: Record<string, Record<string, number>> }
    expect(summary.status).toBe('Completed with Errors')
    expect(summary.counts.user!.new).toBeGreaterThanOrEqual(3) // tch1, s1, s5 at least
    const created = jsonLines((await synclog(['log', '--action', 'Created Roster', '--format', 'json', '--data', data])).stdout)
    expect(created.map((r) => r.sourcedId).sort()).toEqual(['e1', 'e5'])
    const skipped = jsonLines((await synclog(['log', '--action', 'Skipped', '--format', 'json', '--data', data])).stdout)
    expect(skipped.length).toBeGreaterThanOrEqual(2)
    for (const r of skipped) expect(r.message).toMatch(/users\.csv:\d+/)

    const xlsx = join(dir, 'log.xlsx')
    expect((await synclog(['log', '--format', 'xlsx', '--out', xlsx, '--data', data])).code).toBe(0)
    const book = new ExcelJS.Workbook()
    await book.xlsx.readFile(xlsx)
    const values: string[] = []
    book.worksheets[0]!.eachRow((row) =>
      row.eachCell((cell) => {
        expect(cell.formula).toBeUndefined()
        if (typeof cell.value === 'string') values.push(cell.value)
      }),
    )
    expect(values.some((v) => v.startsWith("'=HYPERLINK"))).toBe(true)
    expect(values.every((v) => !/^\s*=/.test(v))).toBe(true)
  })

  it('fails a sync without a manifest with exit code 2 and says why', async () => {
    const dir = await tempDir('nomanifest')
    await hostileBundle(join(dir, 'in'))
    await rm(join(dir, 'in', 'manifest.csv'))
    const run = await synclog(['import', join(dir, 'in'), '--tenant', 't', '--format', 'json', '--data', join(dir, 'data')])
    expect(run.code).toBe(2)
    const summary = JSON.parse(run.stdout) as { status: string; message: string }
    expect(summary.status).toBe('Failed')
    expect(summary.message).toMatch(/manifest/i)
  })

  it('answers a usage error with exit code 1 and the allowed values', async () => {
    const run = await synclog(['log', '--contains', 'nosuchcolumn=x', '--data', await tempDir('usage')])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/--contains takes column=text with a column among: date, action/)
  })
})

describe('holds', () => {
  it('holds a night that drops many students with exit code 3, then applies it when approved', async () => {
    const dir = await tempDir('hold')
    const data = join(dir, 'data')
    const { night1 } = generateDemoNights({ seed: 3 })
    const students = new Set(
      night1.users
        .filter((u) => u.role === 'student')
        .slice(0, Math.ceil(night1.users.length * 0.3))
        .map((u) => u.sourcedId),
    )
    const shrunk = {
      ...night1,
      users: night1.users.filter((u) => !students.has(u.sourcedId)),
      enrollments: night1.enrollments.filter((e) => !students.has(e.userSourcedId)),
    }
    await writeOneRosterBundle(join(dir, 'n1'), night1)
    await writeOneRosterBundle(join(dir, 'n2'), shrunk)
    expect((await synclog(['import', join(dir, 'n1'), '--tenant', 'd', '--data', data])).code).toBe(0)
    const held = await synclog(['import', join(dir, 'n2'), '--tenant', 'd', '--format', 'json', '--data', data])
    expect(held.code).toBe(3)
    const summary = JSON.parse(held.stdout) as { syncId: string; status: string; message: string }
    expect(summary).toMatchObject({ status: 'On Hold', message: expect.stringMatching(/would delete \d+ of \d+ user records/) })

    const approve = await synclog(['approve', summary.syncId, '--by', 'registrar', '--reason', 'expected drop', '--data', data])
    expect(approve.code).toBe(0)
    expect(approve.stdout).toContain('Completed')
    const again = await synclog(['import', join(dir, 'n2'), '--tenant', 'd', '--format', 'json', '--data', data])
    const counts = (JSON.parse(again.stdout) as { counts: Record<string, Record<string, number>> }).counts
    expect(counts.user!.deleted).toBe(0)
    expect(counts.user!.noChange).toBe(shrunk.users.length)
  })
})

describe('the data directory', () => {
  it('tells a second process clearly that the directory is in use', async () => {
    const data = await tempDir('locked')
    await writeFile(
      join(data, 'synclog.lock'),
      JSON.stringify({ pid: process.pid === 1 ? 2 : 1, command: 'import', since: '2024-10-18T02:00:00.000Z' }),
    )
    const run = await synclog(['syncs', '--data', data])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/is in use by another synclog process \(pid \d+, 'import'/)
    expect(run.stderr).toMatch(/--data/)
  })

  it('re-runs an import killed halfway without losing or duplicating a row', async () => {
    const dir = await tempDir('crash')
    const { night1, night2 } = generateDemoNights({ seed: 5 })
    await writeOneRosterBundle(join(dir, 'n1'), night1)
    await writeOneRosterBundle(join(dir, 'n2'), night2)
    const clean = join(dir, 'clean')
    const crashed = join(dir, 'crashed')
    for (const data of [clean, crashed]) expect((await synclog(['import', join(dir, 'n1'), '--tenant', 'd', '--data', data])).code).toBe(0)
    expect((await synclog(['import', join(dir, 'n2'), '--tenant', 'd', '--data', clean])).code).toBe(0)

    // Kill the second import as soon as it has started work; wherever it stops, the re-run must converge.
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'import', join(dir, 'n2'), '--tenant', 'd', '--data', crashed], {
        env: { ...process.env, SYNCLOG_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      child.stderr.on('data', (d: Buffer) => {
        if (d.toString().includes('import started')) child.kill('SIGKILL')
      })
      child.on('close', () => resolve())
    })
    const rerun = await synclog(['import', join(dir, 'n2'), '--tenant', 'd', '--format', 'json', '--data', crashed])
    expect(rerun.code).toBe(0)

    const logOf = async (data: string) =>
      jsonLines((await synclog(['log', '--format', 'json', '--data', data])).stdout)
        .map(({ syncId: _s, date: _d, ...row }) => JSON.stringify(row))
        .sort()
    expect(await logOf(crashed)).toEqual(await logOf(clean))
    const syncs = JSON.parse((await synclog(['syncs', '--format', 'json', '--data', crashed])).stdout) as unknown[]
    expect(syncs).toHaveLength(2)
    expect(await readFile(join(crashed, 'synclog.lock'), 'utf8').catch(() => 'gone')).toBe('gone')
  })
})
