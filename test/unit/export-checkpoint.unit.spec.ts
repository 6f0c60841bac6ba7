import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isSynclogError, type SynclogError } from '../../src/errors.js'
import {
  CHECKPOINT_RETENTION_DAYS,
  advanceCheckpoint,
  checkExportName,
  checkpointPath,
  exportedKeys,
  pruneCheckpoint,
  readCheckpoint,
  syncKey,
  writeCheckpoint,
  type ExportCheckpoint,
} from '../../src/export/export-checkpoint.js'
import { exportFileName, fileStamp, idPart, sanitizePart } from '../../src/export/export-file-names.js'

const DAY = 86_400_000
const NOW = Date.UTC(2025, 2, 1, 2, 15, 0)
const RUN = { name: 'nightly', startedAtMs: NOW - 60_000, sinceMs: Date.UTC(2024, 8, 1), options: { format: 'xlsx', perSchool: false } }

function checkpoint(syncs: { syncId: string; daysAgo: number }[]): ExportCheckpoint {
  return {
    format: 1,
    name: 'nightly',
    lastRunAt: new Date(NOW - DAY).toISOString(),
    since: null,
    options: {},
    syncs: syncs.map((s) => ({
      tenant: 'district-a',
      syncId: s.syncId,
      status: 'Completed',
      rows: 3,
      exportedAt: new Date(NOW - s.daysAgo * DAY).toISOString(),
    })),
  }
}

async function failure(promise: Promise<unknown>): Promise<SynclogError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isSynclogError(error)) throw new Error(`expected a SynclogError, got ${String(error)}`)
  return error
}

let dir = ''
let path = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-checkpoint-'))
  path = checkpointPath(dir, 'nightly')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the export checkpoint file', () => {
  it('lives in <data>/exports under the export name', () => {
    expect(path).toBe(join(dir, 'exports', 'nightly.checkpoint.json'))
  })

  it('is absent before the first run, which reads as no checkpoint', async () => {
    expect(await readCheckpoint(path)).toBeNull()
  })

  it('reads back what was written, with no temp file left behind', async () => {
    const written = advanceCheckpoint(null, RUN, [{ tenant: 'district-a', syncId: 's1', status: 'Completed', rows: 12 }], NOW)
    await writeCheckpoint(path, written)

    expect(await readCheckpoint(path)).toEqual(written)
    expect(await readdir(join(dir, 'exports'))).toEqual(['nightly.checkpoint.json'])
  })

  it('replaces the old file by renaming a new one over it, so the old file is never rewritten in place', async () => {
    await writeCheckpoint(path, checkpoint([{ syncId: 's1', daysAgo: 1 }]))
    const before = await stat(path)
    await writeCheckpoint(
      path,
      checkpoint([
        { syncId: 's1', daysAgo: 1 },
        { syncId: 's2', daysAgo: 0 },
      ]),
    )

    expect((await stat(path)).ino).not.toBe(before.ino)
    expect((await readCheckpoint(path))?.syncs.map((s) => s.syncId)).toEqual(['s1', 's2'])
  })

  it('keeps the old checkpoint intact when the new one cannot be written', async () => {
    const old = checkpoint([{ syncId: 's1', daysAgo: 1 }])
    // A name of 255 bytes, the longest a file system allows: no temp file can be made beside it, so the write fails before the rename.
    const longest = join(dir, `${'c'.repeat(250)}.json`)
    await writeFile(longest, `${JSON.stringify(old, null, 2)}\n`)
    const bytes = await readFile(longest)

    await expect(writeCheckpoint(longest, checkpoint([{ syncId: 's2', daysAgo: 0 }]))).rejects.toThrow(
      `export checkpoint ${longest} cannot be written`,
    )

    expect(await readFile(longest)).toEqual(bytes)
    expect(await readCheckpoint(longest)).toEqual(old)
  })

  it('reports a file that is not JSON as damaged, naming the file and how to recover', async () => {
    await mkdir(join(dir, 'exports'))
    await writeFile(path, '{"format": 1, "syncs": [')

    const error = await failure(readCheckpoint(path))

    expect(error.code).toBe('STATE_CORRUPT')
    expect(error.message).toContain(path)
    expect(error.message).toMatch(/not JSON/)
    expect(error.message).toMatch(/delete it to start over/)
  })

  it('reports JSON of the wrong shape as damaged, naming the file and the bad field', async () => {
    await mkdir(join(dir, 'exports'))
    const bad = {
      ...checkpoint([{ syncId: 's1', daysAgo: 1 }]),
      syncs: [{ tenant: 'district-a', syncId: 's1', status: 'Completed', rows: 3, exportedAt: 'yesterday' }],
    }
    await writeFile(path, JSON.stringify(bad))

    const error = await failure(readCheckpoint(path))

    expect(error.code).toBe('STATE_CORRUPT')
    expect(error.message).toContain(path)
    expect(error.message).toContain('syncs.0.exportedAt')
  })

  it('reports an empty file as damaged rather than as a first run', async () => {
    await mkdir(join(dir, 'exports'))
    await writeFile(path, '')

    expect((await failure(readCheckpoint(path))).message).toContain(path)
  })
})

describe('advancing the checkpoint', () => {
  it('adds the syncs of the run, stamped with the time the run finished, and records when the run started and its --since', () => {
    const next = advanceCheckpoint(
      checkpoint([{ syncId: 's1', daysAgo: 1 }]),
      RUN,
      [
        { tenant: 'district-a', syncId: 's2', status: 'Completed with Errors', rows: 40 },
        { tenant: 'district-a', syncId: 's3', status: 'Rejected', rows: 0 },
      ],
      NOW,
    )

    expect(next.lastRunAt).toBe(new Date(RUN.startedAtMs).toISOString())
    expect(next.since).toBe('2024-09-01T00:00:00.000Z')
    expect(next.options).toEqual(RUN.options)
    expect(next.syncs.map((s) => [s.syncId, s.status, s.rows])).toEqual([
      ['s1', 'Completed', 3],
      ['s2', 'Completed with Errors', 40],
      ['s3', 'Rejected', 0],
    ])
    expect(next.syncs.slice(1).every((s) => s.exportedAt === new Date(NOW).toISOString())).toBe(true)
  })

  it('keys syncs by tenant and sync id, so the same id in two tenants is two syncs', () => {
    const next = advanceCheckpoint(
      null,
      RUN,
      [
        { tenant: 'district-a', syncId: 's1', status: 'Completed', rows: 1 },
        { tenant: 'district-b', syncId: 's1', status: 'Completed', rows: 1 },
      ],
      NOW,
    )

    expect(exportedKeys(next)).toEqual(new Set([syncKey('district-a', 's1'), syncKey('district-b', 's1')]))
  })

  it(`prunes the syncs exported more than ${CHECKPOINT_RETENTION_DAYS} days ago and keeps the rest`, () => {
    const old = checkpoint([
      { syncId: 'ancient', daysAgo: CHECKPOINT_RETENTION_DAYS + 30 },
      { syncId: 'just-over', daysAgo: CHECKPOINT_RETENTION_DAYS + 0.01 },
      { syncId: 'just-under', daysAgo: CHECKPOINT_RETENTION_DAYS - 0.01 },
      { syncId: 'recent', daysAgo: 2 },
    ])

    expect(pruneCheckpoint(old, NOW).syncs.map((s) => s.syncId)).toEqual(['just-under', 'recent'])
    expect(advanceCheckpoint(old, RUN, [], NOW).syncs.map((s) => s.syncId)).toEqual(['just-under', 'recent'])
  })
})

describe('export names and file names', () => {
  it.each(['nightly', 'school-files_2025', 'a.b'])('accepts %j as an export name', (name) => {
    expect(checkExportName(name)).toBe(name)
  })

  it.each(['', '../etc', 'a/b', '.hidden', 'with space', 'x'.repeat(65)])('refuses %j as an export name', (name) => {
    expect(() => checkExportName(name)).toThrow(/--name must be/)
  })

  it('stamps files with a sortable UTC time', () => {
    expect(fileStamp(Date.UTC(2025, 2, 1, 2, 15, 9, 123))).toBe('20250301T021509Z')
    expect(exportFileName('nightly', NOW, 'xlsx')).toBe('nightly-20250301T021500Z.xlsx')
  })

  it('names a school file after its id and readable name, with the tenant when the export spans tenants', () => {
    const school = { tenant: 'district-a', schoolId: 'sch-emerson-hs', schoolName: 'Emerson High School' }
    expect(exportFileName('nightly', NOW, 'csv', { ...school, withTenant: false })).toBe(
      'nightly-sch-emerson-hs-Emerson-High-School-20250301T021500Z.csv',
    )
    expect(exportFileName('nightly', NOW, 'csv', { ...school, withTenant: true })).toBe(
      'nightly-district-a-sch-emerson-hs-Emerson-High-School-20250301T021500Z.csv',
    )
    expect(exportFileName('nightly', NOW, 'csv', { ...school, schoolId: '', schoolName: '', withTenant: false })).toBe(
      'nightly-district-level-20250301T021500Z.csv',
    )
  })

  it('reduces names from data to portable characters', () => {
    expect(sanitizePart('École Élémentaire / "Saint-Jean"')).toBe('Ecole-Elementaire-Saint-Jean')
    expect(sanitizePart('../../etc/passwd')).toBe('etc-passwd')
    expect(sanitizePart('学校')).toBe('')
  })

  it('gives ids that had to change a hash of the original, so two ids never share a file name', () => {
    expect(idPart('sch-1')).toBe('sch-1')
    expect(idPart('a/b')).toMatch(/^a-b_[0-9a-f]{8}$/)
    expect(idPart('a/b')).not.toBe(idPart('a:b'))
    expect(idPart('学校')).toMatch(/^[0-9a-f]{8}$/)
  })
})
