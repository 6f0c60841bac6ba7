/**
 * Input that decides how much memory or time a command takes: zip bombs, CSV
 * files with 55,000 columns or endless lines, NDJSON lines of hundreds of MB, a
 * heap that fills up, a process killed in the middle. Every run must end within
 * a deadline, with a message naming the file, the line or entry and the limit,
 * without a stack trace, in bounded memory, and leave the data directory free
 * for the next command.
 */
import { once } from 'node:events'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBounded, startSynclog, type BoundedRun } from '../support/bounded-run.js'
import { tempDir } from '../support/cli.js'
import { repeated, writeZip, type ZipEntrySpec } from '../support/zip-builder.js'

const FILES = [
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
]
const MANIFEST = [
  'propertyName,value',
  'manifest.version,1.0',
  'oneroster.version,1.1',
  ...FILES.map((f) => `file.${f},${f === 'orgs' || f === 'users' ? 'bulk' : 'absent'}`),
].join('\n')
const ORGS = 'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nsch1,,,Fremont High,school,,\n'
const USERS_HEADER =
  'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password'
const userRow = (i: number, givenName = 'Sam'): string => `u${i},,,true,sch1,student,u${i},,${givenName},Lee,,S${i},,,,,09,`

/** A JavaScript heap small enough that holding any input whole would end the run. */
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=160' }
const DEADLINE_MS = 90_000

let root: string
beforeAll(async () => {
  root = await tempDir('hostile-sizes')
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

let n = 0
async function workDir(): Promise<{ dir: string; data: string }> {
  const dir = join(root, `case${++n}`)
  await mkdir(dir, { recursive: true })
  return { dir, data: join(dir, 'data') }
}

async function zipBundle(path: string, users: ZipEntrySpec['content'], extra: readonly ZipEntrySpec[] = []): Promise<number> {
  return writeZip(path, [
    { name: 'manifest.csv', content: MANIFEST },
    { name: 'orgs.csv', content: ORGS },
    { name: 'users.csv', content: users },
    ...extra,
  ])
}

async function folderBundle(dir: string, users: Iterable<string | Buffer>): Promise<string> {
  const bundle = join(dir, 'in')
  await mkdir(bundle, { recursive: true })
  await writeFile(join(bundle, 'manifest.csv'), MANIFEST)
  await writeFile(join(bundle, 'orgs.csv'), ORGS)
  await streamToFile(join(bundle, 'users.csv'), users)
  return bundle
}

async function streamToFile(path: string, pieces: Iterable<string | Buffer>): Promise<void> {
  const out = createWriteStream(path)
  for (const p of pieces) if (!out.write(p)) await once(out, 'drain')
  out.end()
  await once(out, 'finish')
}

/** What every hostile run must show: it ended in time, said why in words, and freed the data directory. */
async function expectCleanEnd(run: BoundedRun, data: string): Promise<void> {
  expect(run.timedOut, `still running after ${DEADLINE_MS} ms`).toBe(false)
  expect(`${run.stdout}${run.stderr}`).not.toMatch(/^\s+at /m)
  expect(existsSync(join(data, 'synclog.lock'))).toBe(false)
  const next = await runBounded(['syncs', '--data', data, '--format', 'json'], { deadlineMs: DEADLINE_MS })
  expect(next.stderr).toBe('')
  expect(next.code).toBe(0)
}

function failedMessage(run: BoundedRun): string {
  return (JSON.parse(run.stdout) as { status: string; message: string }).message
}

describe('zip bombs', () => {
  it('refuses a 3 MB zip that inflates to 1 GiB by its ratio, before inflating it, naming the zip, the entry and the limit', async () => {
    const { dir, data } = await workDir()
    const zip = join(dir, 'bomb.zip')
    const size = await zipBundle(zip, [Buffer.from(`${USERS_HEADER}\n`), ...repeated(`${userRow(1)}\n`, 1024 ** 3)])
    expect(size).toBeLessThan(4 * 1024 * 1024)
    const run = await runBounded(['import', zip, '--tenant', 't', '--format', 'json', '--data', data], {
      env: SMALL_HEAP,
      deadlineMs: DEADLINE_MS,
    })
    expect(run.code).toBe(2)
    expect(failedMessage(run)).toMatch(/users\.csv in the zip bomb\.zip expands \d+:1 .*limit zipRatio \(200:1\).*SYNCLOG_LIMIT_ZIP_RATIO/)
    expect(run.ms).toBeLessThan(60_000)
    await expectCleanEnd(run, data)
  })

  it('stops inflating an entry whose header lies about its size as soon as it passes what the header declared', async () => {
    const { dir, data } = await workDir()
    const zip = join(dir, 'liar.zip')
    // 25 MB of rows (a ratio under the limit: every row differs) declared as 4,000 bytes.
    const rows = function* (): Generator<string> {
      yield `${USERS_HEADER}\n`
      for (let i = 0; i < 500_000; i++) yield `${userRow(i, `G${(i * 7919) % 1_000_003}`)}\n`
    }
    await writeZip(zip, [
      { name: 'manifest.csv', content: MANIFEST },
      { name: 'orgs.csv', content: ORGS },
      { name: 'users.csv', content: rows(), claim: { uncompressed: 4000 } },
    ])
    const run = await runBounded(['import', zip, '--tenant', 't', '--format', 'json', '--data', data], {
      env: SMALL_HEAP,
      deadlineMs: DEADLINE_MS,
    })
    expect(run.code).toBe(2)
    expect(failedMessage(run)).toContain('users.csv in the zip liar.zip inflates to more than the 4000 bytes its header declares')
    await expectCleanEnd(run, data)
  })

  it('counts overlapping entries (many names, the same compressed bytes) against the bundle total', async () => {
    const { dir, data } = await workDir()
    const zip = join(dir, 'overlap.zip')
    const extra = Array.from({ length: 40 }, (_, i) => ({ name: `extra${i}.csv`, content: '', sameDataAs: 'users.csv' }))
    // 900 KiB each: under the size from which a ratio is checked, so only the total can catch them.
    await zipBundle(zip, `${USERS_HEADER}\n${`${userRow(1)}\n`.repeat(20_000)}`, extra)
    const run = await runBounded(['import', zip, '--tenant', 't', '--format', 'json', '--data', data], {
      env: { ...SMALL_HEAP, SYNCLOG_LIMIT_BUNDLE_BYTES: '16MiB' },
      deadlineMs: DEADLINE_MS,
    })
    expect(run.code).toBe(2)
    expect(failedMessage(run)).toMatch(
      /the files of the zip overlap\.zip expand to \d+\.\d MiB in all, more than the limit bundleBytes \(16 MiB\); .*SYNCLOG_LIMIT_BUNDLE_BYTES/,
    )
    await expectCleanEnd(run, data)
  })

  it('refuses a zip of more entries than zipEntries without reading them', async () => {
    const { dir, data } = await workDir()
    const zip = join(dir, 'many.zip')
    await zipBundle(
      zip,
      `${USERS_HEADER}\n${userRow(1)}\n`,
      Array.from({ length: 10_001 }, (_, i) => ({ name: `junk/${i}.txt`, content: 'x', stored: true })),
    )
    const run = await runBounded(['import', zip, '--tenant', 't', '--format', 'json', '--data', data], {
      env: SMALL_HEAP,
      deadlineMs: DEADLINE_MS,
    })
    expect(run.code).toBe(2)
    expect(failedMessage(run)).toMatch(/the zip many\.zip holds 10004 entries, more than the limit zipEntries \(10000\)/)
    await expectCleanEnd(run, data)
  })
})

describe('CSV files', () => {
  it('refuses a users.csv with 55,000 metadata columns, naming the file, the header line and csvColumns', async () => {
    const { dir, data } = await workDir()
    const header = `${USERS_HEADER},${Array.from({ length: 55_000 }, (_, i) => `metadata.k${i}`).join(',')}`
    const row = (i: number): string => `${userRow(i)},${Array.from({ length: 55_000 }, (_, k) => (k + i) % 10).join(',')}`
    const bundle = await folderBundle(
      dir,
      (function* () {
        yield `${header}\n`
        for (let i = 0; i < 300; i++) yield `${row(i)}\n`
      })(),
    )
    const run = await runBounded(['import', bundle, '--tenant', 't', '--format', 'json', '--data', data], {
      env: SMALL_HEAP,
      deadlineMs: DEADLINE_MS,
    })
    expect(run.code).toBe(2)
    expect(failedMessage(run)).toMatch(
      /users\.csv: the header row \(line 1\) has 55018 columns, more than the limit csvColumns \(1000\); raise it with limits\.csvColumns/,
    )
    await expectCleanEnd(run, data)
  })

  it('skips a 200 MB line, a 5 MB value and a quote left open to the end of the file row by row, in bounded memory', async () => {
    const { dir, data } = await workDir()
    const bundle = await folderBundle(
      dir,
      (function* () {
        yield `${USERS_HEADER}\n${userRow(1)}\n`
        yield 'u2,,,true,sch1,student,u2,,'
        yield* repeated('abcdefghi,', 200 * 1024 * 1024)
        yield `,Lee,,S2,,,,,09,\n${userRow(3)}\n`
        yield `u4,,,true,sch1,student,u4,,"${'q'.repeat(5 * 1024 * 1024)}",Lee,,S4,,,,,09,\n${userRow(5)}\n`
        yield 'u6,,,true,sch1,student,u6,,"Open quote,Lee,,S6,,,,,09,'
      })(),
    )
    const run = await runBounded(['import', bundle, '--tenant', 't', '--format', 'json', '--data', data], {
      env: SMALL_HEAP,
      deadlineMs: DEADLINE_MS,
    })
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'Completed with Errors', counts: { user: { new: 3, skipped: 3 } } })
    expect(run.peakMiB).toBeLessThan(1024)
    const report = await runBounded(
      [
        'drilldown',
        JSON.parse(run.stdout).syncId as string,
        '--entity',
        'user',
        '--outcome',
        'Skipped',
        '--format',
        'json',
        '--data',
        data,
      ],
      { deadlineMs: DEADLINE_MS },
    )
    expect(report.stdout).toMatch(/longer than the limit csvLineBytes \(1 MiB\) \(users\.csv:3\)/)
    expect(report.stdout).toMatch(/longer than the limit csvFieldChars \(65536 characters\) \(users\.csv:5\)/)
    expect(report.stdout).toMatch(/not closed before the end of the line.*\(users\.csv:7\)/)
    await expectCleanEnd(run, data)
  })
})

describe('NDJSON', () => {
  const event = (o: Record<string, unknown>): string =>
    JSON.stringify({ tenant: 't', syncId: 's1', app: 'sis', occurredAt: '2025-01-31T02:00:00Z', ...o })

  it('skips a 256 MB line and a line just over the default 1 MiB cap without holding either, and names them', async () => {
    const { dir, data } = await workDir()
    const file = join(dir, 'events.ndjson')
    await streamToFile(
      file,
      (function* () {
        yield `${event({ type: 'SyncStarted', eventId: 'a', modes: {} })}\n`
        yield `${event({ type: 'SyncFailed', eventId: 'b', reason: 'x'.repeat(1024 * 1024) })}\n`
        yield '{"type":"SyncFailed","reason":"'
        yield* repeated('y', 256 * 1024 * 1024)
        yield '"}\n'
        yield `${event({ type: 'SyncEnded', eventId: 'c' })}\n`
      })(),
    )
    const run = await runBounded(['ingest', file, '--data', data], { env: SMALL_HEAP, deadlineMs: DEADLINE_MS })
    expect(run.code).toBe(0)
    expect(run.stderr).toContain(`${file}:2: the line is longer than the limit ndjsonLineBytes (1 MiB); it is skipped unread`)
    expect(run.stderr).toContain(`${file}:3: the line is longer than the limit ndjsonLineBytes (1 MiB)`)
    expect(run.stdout).toMatch(/s1\tCompleted/)
    expect(run.peakMiB).toBeLessThan(1024)
    await expectCleanEnd(run, data)
  })
})

describe('a process that cannot go on', () => {
  /** 40,000 users with a 10 KB name each: 400 MB of state, far more than a 160 MB heap. */
  async function heavyBundle(dir: string): Promise<string> {
    return folderBundle(
      dir,
      (function* () {
        yield `${USERS_HEADER}\n`
        for (let i = 0; i < 40_000; i++) yield `${userRow(i, `${i}`.padEnd(10_000, 'n'))}\n`
      })(),
    )
  }

  it('stops with "out of memory" when the heap stays nearly full, exits 1 and frees the data directory', async () => {
    const { dir, data } = await workDir()
    // At 60 % the watchdog always acts before V8 gives up; at the default 90 % it usually does (see the next test for when not).
    const run = await runBounded(['import', await heavyBundle(dir), '--tenant', 't', '--data', data], {
      env: { ...SMALL_HEAP, SYNCLOG_LIMIT_HEAP_PERCENT: '60' },
      deadlineMs: DEADLINE_MS,
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/synclog: out of memory: .* heap is in use after a full garbage collection .*heapPercent/)
    await expectCleanEnd(run, data)
  })

  it('dies rather than hangs when V8 itself gives up (chDB must not swallow the abort), and the next command takes the lock over', async () => {
    const { dir, data } = await workDir()
    const run = await runBounded(['import', await heavyBundle(dir), '--tenant', 't', '--data', data], {
      env: { ...SMALL_HEAP, SYNCLOG_LIMIT_HEAP_PERCENT: '99' },
      deadlineMs: DEADLINE_MS,
    })
    expect(run.timedOut).toBe(false)
    expect(run.code === 1 || run.code === 134 || run.signal === 'SIGABRT').toBe(true)
    const next = await runBounded(['syncs', '--data', data], { deadlineMs: DEADLINE_MS })
    expect(next.code).toBe(0)
  })

  it(
    'lets the next command run after an import is killed with SIGKILL in the middle',
    async () => {
      const { dir, data } = await workDir()
      const bundle = await folderBundle(
        dir,
        (function* () {
          yield `${USERS_HEADER}\n`
          for (let i = 0; i < 100_000; i++) yield `${userRow(i)}\n`
        })(),
      )
      const child = startSynclog(['import', bundle, '--tenant', 't', '--data', data])
      const closed = once(child, 'close')
      const deadline = Date.now() + DEADLINE_MS
      while (!existsSync(join(data, 'import-in-progress.json')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      child.kill('SIGKILL')
      await closed
      expect(existsSync(join(data, 'synclog.lock'))).toBe(true)
      const next = await runBounded(['syncs', '--data', data, '--format', 'json'], { deadlineMs: DEADLINE_MS })
      expect(next.code).toBe(0)
      const again = await runBounded(['import', bundle, '--tenant', 't', '--format', 'json', '--data', data], { deadlineMs: DEADLINE_MS })
      expect(again.code).toBe(0)
      expect(JSON.parse(again.stdout)).toMatchObject({ status: 'Completed', counts: { user: { new: 100_000 } } })
    },
    3 * DEADLINE_MS,
  )
})
