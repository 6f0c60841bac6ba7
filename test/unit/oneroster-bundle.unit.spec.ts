import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ChangeEvent, RecordChanged, RecordUnreadable, SyncFailed, SyncStarted, UserFields } from '../../src/events/change-event.js'
import { bundleFingerprint, readOneRosterBundle, type BundleIssue, type BundleOptions } from '../../src/oneroster/read-bundle.js'
import {
  ENROLLMENTS,
  ORGS,
  csv,
  district11,
  district12,
  manifest,
  tempDir,
  writeFolder,
  zipOf,
  type BundleFiles,
} from '../fixtures/oneroster/bundles.js'

const AT = '2025-01-31T02:00:00Z'
let dir: string
let cleanup: () => Promise<void>

beforeEach(async () => {
  ;({ dir, cleanup } = await tempDir())
})
afterEach(async () => {
  await cleanup()
})

type Options = Partial<BundleOptions>

async function read(path: string, opts: Options = {}): Promise<{ events: ChangeEvent[]; issues: BundleIssue[] }> {
  const issues: BundleIssue[] = []
  const events: ChangeEvent[] = []
  for await (const e of readOneRosterBundle({
    path,
    tenant: 'emerson',
    syncId: 's1',
    occurredAt: AT,
    onIssue: (i) => issues.push(i),
    ...opts,
  }))
    events.push(e)
  return { events, issues }
}

async function readFiles(files: BundleFiles, opts: Options = {}): Promise<{ events: ChangeEvent[]; issues: BundleIssue[] }> {
  return read(await writeFolder(join(dir, 'bundle'), files), opts)
}

const records = (events: ChangeEvent[]): RecordChanged[] => events.filter((e): e is RecordChanged => e.type === 'RecordChanged')
const unreadables = (events: ChangeEvent[]): RecordUnreadable[] =>
  events.filter((e): e is RecordUnreadable => e.type === 'RecordUnreadable')
const record = (events: ChangeEvent[], sourcedId: string): RecordChanged => {
  const found = records(events).find((e) => e.sourcedId === sourcedId)
  if (!found) throw new Error(`no record ${sourcedId}`)
  return found
}
const userFields = (events: ChangeEvent[], sourcedId: string): UserFields => {
  const found = record(events, sourcedId)
  if (found.entity !== 'user') throw new Error(`${sourcedId} is not a user`)
  return found.fields
}
const failure = (events: ChangeEvent[]): string => {
  expect(events.map((e) => e.type)).toEqual(['SyncStarted', 'SyncFailed'])
  return (events[1] as SyncFailed).reason
}

/** A bundle of orgs.csv only (plus the manifest), for row-level tests. */
function orgsBundle(orgs: string | Buffer): BundleFiles {
  return { 'manifest.csv': manifest('1.1', { orgs: 'bulk' }), 'orgs.csv': orgs }
}

describe('a OneRoster 1.1 bulk folder', () => {
  it('yields SyncStarted with a full mode per file, every row in dependency order, then SyncEnded', async () => {
    const { events } = await readFiles(district11())
    expect(events[0]).toEqual({
      type: 'SyncStarted',
      eventId: 's1:start',
      tenant: 'emerson',
      syncId: 's1',
      app: 'oneroster-csv',
      occurredAt: AT,
      modes: { org: 'full', academicSession: 'full', course: 'full', user: 'full', class: 'full', enrollment: 'full' },
    })
    expect(events.at(-1)).toEqual({
      type: 'SyncEnded',
      eventId: 's1:end',
      tenant: 'emerson',
      syncId: 's1',
      app: 'oneroster-csv',
      occurredAt: AT,
    })
    expect(records(events).map((e) => `${e.entity}:${e.sourcedId}`)).toEqual([
      'org:d1',
      'org:sch1',
      'academicSession:y2025',
      'academicSession:t1',
      'course:c1',
      'user:u-t1',
      'user:u-s1',
      'class:k1',
      'enrollment:e1',
      'enrollment:e2',
    ])
    expect(unreadables(events)).toEqual([])
  })

  it('maps each row onto the fields of its entity, with blanks as null and the file and line as source', async () => {
    const { events } = await readFiles(district11())
    expect(record(events, 'sch1')).toEqual({
      type: 'RecordChanged',
      eventId: 's1:orgs.csv:3',
      tenant: 'emerson',
      syncId: 's1',
      app: 'oneroster-csv',
      occurredAt: AT,
      entity: 'org',
      sourcedId: 'sch1',
      op: 'upsert',
      dateLastModified: null,
      fields: { name: 'Fremont High', type: 'school', identifier: '061234500001', parentSourcedId: 'd1' },
      metadata: {},
      source: { file: 'orgs.csv', line: 3 },
    })
    expect(record(events, 'y2025').fields).toEqual({
      title: '2024-25',
      type: 'schoolYear',
      startDate: '2024-07-01',
      endDate: '2025-07-01',
      parentSourcedId: null,
      schoolYear: '2025',
    })
    expect(record(events, 'c1').fields).toEqual({
      title: 'Algebra I',
      schoolYearSourcedId: 'y2025',
      courseCode: 'MATH-101',
      grades: ['09', '10'],
      orgSourcedId: 'sch1',
      subjects: ['Mathematics'],
    })
    expect(record(events, 'k1').fields).toEqual({
      title: 'Algebra I - P1',
      courseSourcedId: 'c1',
      classCode: 'ALG1-01',
      classType: 'scheduled',
      location: 'Room 101',
      schoolSourcedId: 'sch1',
      termSourcedIds: ['t1'],
      periods: ['1', '3'],
      grades: ['09'],
      subjects: ['Mathematics'],
    })
    expect(record(events, 'u-s1').fields).toEqual({
      enabledUser: 'true',
      orgSourcedIds: ['sch1', 'd1'],
      role: 'student',
      username: 'jsmith',
      givenName: 'John',
      familyName: 'Smith',
      middleName: 'Q',
      identifier: 'S2001',
      email: null,
      grades: ['09'],
    })
    expect(record(events, 'e1').fields).toEqual({
      classSourcedId: 'k1',
      schoolSourcedId: 'sch1',
      userSourcedId: 'u-t1',
      role: 'teacher',
      primary: 'true',
      beginDate: '2024-08-20',
      endDate: null,
    })
  })

  it('never copies password, sms, phone or userIds anywhere', async () => {
    const { events } = await readFiles(district11())
    const text = JSON.stringify(events)
    for (const secret of ['s3cret', 'hunter2', '555-1234', '555-5678', 'LDAP']) expect(text).not.toContain(secret)
  })

  it('keeps metadata.* columns under their name without the prefix', async () => {
    const { events } = await readFiles(district11())
    expect(record(events, 'k1').metadata).toEqual({ maxStudents: '25' })
  })

  it('uses the given app and the same occurredAt for every event', async () => {
    const { events } = await readFiles(district11(), { app: 'sftp-nightly' })
    expect(new Set(events.map((e) => e.app))).toEqual(new Set(['sftp-nightly']))
    expect(new Set(events.map((e) => e.occurredAt))).toEqual(new Set([AT]))
  })

  it('gives the same events, with ids made of sync, file and line, when the same bundle is read twice', async () => {
    const path = await writeFolder(join(dir, 'bundle'), district11())
    const first = await read(path)
    const second = await read(path)
    expect(second.events).toEqual(first.events)
    expect(records(first.events).map((e) => e.eventId)).toContain('s1:enrollments.csv:3')
    expect(new Set(first.events.map((e) => e.eventId)).size).toBe(first.events.length)
  })

  it('ignores files outside rostering, such as demographics and results', async () => {
    const files = district11()
    files['manifest.csv'] = manifest('1.1', {
      orgs: 'bulk',
      academicSessions: 'bulk',
      courses: 'bulk',
      classes: 'bulk',
      users: 'bulk',
      enrollments: 'bulk',
      demographics: 'bulk',
      results: 'delta',
    })
    files['demographics.csv'] = csv('sourcedId,status,dateLastModified,birthDate', 'u-s1,,,2010-01-01')
    files['results.csv'] = 'not even csv "'
    const { events } = await readFiles(files)
    expect(events.at(-1)?.type).toBe('SyncEnded')
    expect(JSON.stringify(events)).not.toContain('2010-01-01')
    expect(Object.keys((events[0] as SyncStarted).modes)).not.toContain('demographics')
  })
})

describe('a delta bundle', () => {
  it('lists only the files marked bulk or delta in the modes, delta as delta', async () => {
    const { events } = await readFiles({
      'manifest.csv': manifest('1.1', { orgs: 'bulk', enrollments: 'delta' }),
      'orgs.csv': ORGS,
      'enrollments.csv': ENROLLMENTS,
    })
    expect((events[0] as SyncStarted).modes).toEqual({ org: 'full', enrollment: 'delta' })
  })

  it('reads status tobedeleted, and the 1.0 status inactive, as a delete and passes dateLastModified through', async () => {
    const { events } = await readFiles({
      'manifest.csv': manifest('1.1', { enrollments: 'delta' }),
      'enrollments.csv': csv(
        'sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate',
        'e1,tobedeleted,2025-01-30T10:00:00.000Z,,,,,,,',
        'e2,inactive,2025-01-30T10:00:00Z,k1,sch1,u-s1,student,false,,',
        'e3,active,2025-01-30T11:00:00Z,k1,sch1,u-s2,student,false,2024-08-20,',
      ),
    })
    expect(records(events).map((e) => [e.sourcedId, e.op, e.dateLastModified])).toEqual([
      ['e1', 'delete', '2025-01-30T10:00:00.000Z'],
      ['e2', 'delete', '2025-01-30T10:00:00Z'],
      ['e3', 'upsert', '2025-01-30T11:00:00Z'],
    ])
    expect(record(events, 'e1').fields).toMatchObject({ classSourcedId: null, userSourcedId: null })
  })
})

describe('a OneRoster 1.2 bundle with roles.csv', () => {
  it('takes a user role from the primary role, in the 1.1 vocabulary', async () => {
    const { events } = await readFiles(district12())
    expect(userFields(events, 'u-p1').role).toBe('administrator') // principal
    expect(userFields(events, 'u-c1').role).toBe('administrator') // counselor
    expect(userFields(events, 'u-s1').role).toBe('student')
  })

  it('lists the primary role org first, then the other roles orgs, and puts primaryOrgSourcedId before them', async () => {
    const { events } = await readFiles(district12())
    expect(userFields(events, 'u-p1').orgSourcedIds).toEqual(['sch1', 'sch2'])
    // u-s1 names sch2 as its primary org; the role that is being deleted (sch3) does not count.
    expect(userFields(events, 'u-s1').orgSourcedIds).toEqual(['sch2', 'sch1'])
  })

  it('leaves a user without any role row with a null role and no orgs', async () => {
    const { events } = await readFiles(district12())
    expect(record(events, 'u-x1').fields).toMatchObject({ role: null, orgSourcedIds: [], givenName: 'No' })
  })

  it('ignores the preferred names and the other 1.2 columns without a field', async () => {
    const { events } = await readFiles(district12())
    expect(record(events, 'u-p1').fields).toEqual({
      enabledUser: 'true',
      orgSourcedIds: ['sch1', 'sch2'],
      role: 'administrator',
      username: 'pjones',
      givenName: 'Pat',
      familyName: 'Jones',
      middleName: null,
      identifier: 'A1',
      email: 'pjones@emerson.k12.ca.us',
      grades: [],
    })
    expect(JSON.stringify(events)).not.toContain('Patty')
  })

  it('emits no event for roles.csv rows, only for users', async () => {
    const { events } = await readFiles(district12())
    expect((events[0] as SyncStarted).modes).toEqual({ org: 'full', user: 'full' })
    expect(events.some((e) => 'source' in e && e.source?.file === 'roles.csv')).toBe(false)
  })

  it('reports an unreadable roles.csv row as an unreadable user record naming roles.csv and its line', async () => {
    const files = district12()
    files['roles.csv'] = csv(
      'sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId',
      'r1,,,u-p1,primary,"principal,,,sch1,',
      'r2,,,u-c1,primary,counselor,,,sch1,',
    )
    const { events } = await readFiles(files)
    expect(unreadables(events)).toEqual([
      expect.objectContaining({
        entity: 'user',
        sourcedId: 'u-p1',
        field: 'role',
        eventId: 's1:roles.csv:2',
        source: { file: 'roles.csv', line: 2 },
      }),
    ])
    expect(userFields(events, 'u-c1').role).toBe('administrator')
  })

  it('accepts a 1.2.x version and notes how it was read', async () => {
    const files = district12()
    files['manifest.csv'] = manifest('1.2.1', { orgs: 'bulk', users: 'bulk', roles: 'bulk' })
    const { events, issues } = await readFiles(files)
    expect(events.at(-1)?.type).toBe('SyncEnded')
    expect(issues).toContainEqual(expect.objectContaining({ file: 'manifest.csv', field: 'oneroster.version' }))
  })

  it('uses role and orgSourcedIds columns directly when a users.csv has them', async () => {
    const { events } = await readFiles({
      'manifest.csv': manifest('1.2', { users: 'delta' }),
      'users.csv': csv(
        'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,familyName',
        'u1,active,2025-01-01T00:00:00Z,true,"sch1, sch2",teacher,t,T,One',
      ),
    })
    expect(record(events, 'u1').fields).toMatchObject({ role: 'teacher', orgSourcedIds: ['sch1', 'sch2'] })
  })
})

describe('a zip bundle', () => {
  it('gives the same events as the same files in a folder', async () => {
    const folder = await read(await writeFolder(join(dir, 'bundle'), district11()))
    const zipPath = join(dir, 'bundle.zip')
    await writeFile(zipPath, zipOf(district11(), { deflate: true }))
    const zipped = await read(zipPath)
    expect(zipped.events).toEqual(folder.events)
  })

  it('reads a zip whose files sit in one folder, as made by compressing the export folder', async () => {
    const files = Object.fromEntries(Object.entries(district12()).map(([name, content]) => [`export-2025-01-31/${name}`, content]))
    const zipPath = join(dir, 'nested.zip')
    await writeFile(zipPath, zipOf({ ...files, '__MACOSX/export-2025-01-31/._users.csv': 'junk' }))
    const { events } = await read(zipPath)
    expect(events.at(-1)?.type).toBe('SyncEnded')
    expect(userFields(events, 'u-p1').role).toBe('administrator')
  })

  it('fails the sync, after SyncStarted, when the file is not a zip, naming it without the server path', async () => {
    const path = join(dir, 'export.zip')
    await writeFile(path, 'this is not a zip')
    const reason = failure((await read(path)).events)
    expect(reason).toContain('export.zip')
    expect(reason).not.toContain(dir)
    expect(reason).toMatch(/zip/i)
  })

  it('fails the sync naming the file when an entry of the zip is corrupt', async () => {
    const bytes = zipOf(district11(), { deflate: true })
    const at = bytes.indexOf(Buffer.from('users.csv')) + 'users.csv'.length + 5
    bytes.fill(0xff, at, at + 20)
    const path = join(dir, 'corrupt.zip')
    await writeFile(path, bytes)
    expect(failure((await read(path)).events)).toMatch(/^cannot read users\.csv: /)
  })

  it('fails the sync when the path does not exist, naming the bundle without the server path', async () => {
    const path = join(dir, 'missing.zip')
    const { events } = await read(path)
    expect(events[0]).toMatchObject({ type: 'SyncStarted', eventId: 's1:start', modes: {} })
    expect(events[1]).toMatchObject({ type: 'SyncFailed', eventId: 's1:failed' })
    expect(failure(events)).toContain('missing.zip')
    expect(failure(events)).not.toContain(dir)
  })
})

describe('the CSV dialect', () => {
  it('skips a UTF-8 BOM and reads CRLF line ends', async () => {
    const text =
      '\uFEFFsourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\nsch1,,,Fremont High,school,,d1\r\nsch2,,,Lincoln,school,,d1\r\n'
    const { events } = await readFiles(orgsBundle(text))
    expect(records(events).map((e) => [e.sourcedId, e.fields, e.source])).toEqual([
      ['sch1', { name: 'Fremont High', type: 'school', identifier: null, parentSourcedId: 'd1' }, { file: 'orgs.csv', line: 2 }],
      ['sch2', { name: 'Lincoln', type: 'school', identifier: null, parentSourcedId: 'd1' }, { file: 'orgs.csv', line: 3 }],
    ])
  })

  it('matches columns by header name, whatever their order', async () => {
    const { events } = await readFiles(orgsBundle(csv('type,parentSourcedId,name,sourcedId', 'school,d1,Fremont High,sch1')))
    expect(record(events, 'sch1').fields).toEqual({ name: 'Fremont High', type: 'school', identifier: null, parentSourcedId: 'd1' })
  })

  it('splits quoted lists on commas, trims the items and drops empty ones, but trims no other value', async () => {
    const { events } = await readFiles({
      'manifest.csv': manifest('1.1', { courses: 'bulk' }),
      'courses.csv': csv('sourcedId,title,grades,orgSourcedId,subjects', 'c1, Algebra I ," 09 , 10,,11 ",sch1,"Math, ""Advanced"" Topics"'),
    })
    expect(record(events, 'c1').fields).toMatchObject({
      title: ' Algebra I ',
      grades: ['09', '10', '11'],
      subjects: ['Math', '"Advanced" Topics'],
    })
  })

  it('passes a formula-looking value through unchanged', async () => {
    const { events } = await readFiles(
      orgsBundle(csv('sourcedId,name,type', 'sch1,"=HYPERLINK(""http://x"",""y"")",school', 'sch2,+1-2,school', 'sch3,@SUM(A1),school')),
    )
    expect(
      records(events)
        .map((e) => e.fields)
        .map((f) => ('name' in f ? f.name : null)),
    ).toEqual(['=HYPERLINK("http://x","y")', '+1-2', '@SUM(A1)'])
  })

  it('reads a header-only file as zero rows and still ends the sync', async () => {
    const { events, issues } = await readFiles(orgsBundle(csv('sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId')))
    expect(events.map((e) => e.type)).toEqual(['SyncStarted', 'SyncEnded'])
    expect(issues).toContainEqual(expect.objectContaining({ file: 'orgs.csv', message: expect.stringContaining('no rows') }))
  })

  it('counts blank lines in the line numbers without making records of them', async () => {
    const { events } = await readFiles(orgsBundle('sourcedId,name,type\n\nsch1,A,school\n\n\nsch2,B,school'))
    expect(records(events).map((e) => e.source?.line)).toEqual([3, 6])
  })
})

describe('rows that cannot be read', () => {
  it('reports a row with the wrong number of values by file and line and keeps its neighbours', async () => {
    const { events } = await readFiles(
      orgsBundle(csv('sourcedId,name,type', 'sch1,A,school', 'sch2,B,school,extra', 'sch3,C', 'sch4,D,school')),
    )
    expect(records(events).map((e) => e.sourcedId)).toEqual(['sch1', 'sch4'])
    expect(unreadables(events)).toEqual([
      {
        type: 'RecordUnreadable',
        eventId: 's1:orgs.csv:3',
        tenant: 'emerson',
        syncId: 's1',
        app: 'oneroster-csv',
        occurredAt: AT,
        entity: 'org',
        sourcedId: 'sch2',
        field: '',
        message: 'expected 3 values as in the header, found 4',
        source: { file: 'orgs.csv', line: 3 },
      },
      expect.objectContaining({
        sourcedId: 'sch3',
        field: '',
        message: 'expected 3 values as in the header, found 2',
        source: { file: 'orgs.csv', line: 4 },
      }),
    ])
    expect(events.at(-1)?.type).toBe('SyncEnded')
  })

  it('reports a row with a broken quote by file and line and still reads the rows after it', async () => {
    const { events } = await readFiles(
      orgsBundle(
        csv(
          'sourcedId,name,type',
          'sch1,"Fremont "High",school',
          'sch2,"Lincoln,school',
          'sch3,Wash"ington,school',
          'sch4,"Jefferson",school',
        ),
      ),
    )
    expect(unreadables(events).map((e) => [e.source?.line, e.sourcedId, e.field])).toEqual([
      [2, 'sch1', 'name'],
      [3, 'sch2', 'name'],
      [4, 'sch3', 'name'],
    ])
    expect(unreadables(events)[1]?.message).toContain('not closed')
    expect(records(events).map((e) => [e.sourcedId, e.source?.line])).toEqual([['sch4', 5]])
  })

  it('reports a 10 MB value as an unreadable row naming the column, and reads on', async () => {
    const huge = 'x'.repeat(10 * 1024 * 1024)
    const { events } = await readFiles(
      orgsBundle(csv('sourcedId,name,type', 'sch1,A,school', `sch2,"${huge}",school`, `sch3,${huge},school`, 'sch4,D,school')),
    )
    expect(unreadables(events).map((e) => [e.source?.line, e.sourcedId, e.field, e.message])).toEqual([
      [3, 'sch2', 'name', 'value is longer than the limit csvFieldChars (65536 characters)'],
      [4, 'sch3', 'name', 'value is longer than the limit csvFieldChars (65536 characters)'],
    ])
    expect(records(events).map((e) => e.sourcedId)).toEqual(['sch1', 'sch4'])
  })

  it('reports a row that is not valid UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('sourcedId,name,type\nsch1,Jos'),
      Buffer.from([0xe9]),
      Buffer.from(',school\nsch2,B,school\n'),
    ])
    const { events } = await readFiles(orgsBundle(bytes))
    expect(unreadables(events)).toEqual([
      expect.objectContaining({ sourcedId: null, message: 'the line is not valid UTF-8', source: { file: 'orgs.csv', line: 2 } }),
    ])
    expect(records(events).map((e) => e.sourcedId)).toEqual(['sch2'])
  })
})

describe('a bundle that cannot be read as a whole fails the sync', () => {
  const withManifest = (text: string): BundleFiles => ({ ...district11(), 'manifest.csv': text })
  const base = (lines: string[]): string => csv('propertyName,value', ...lines)
  const bulkRostering = ['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments'].map((f) => `file.${f},bulk`)

  it('when manifest.csv is missing', async () => {
    const files = district11()
    delete files['manifest.csv']
    expect(failure((await readFiles(files)).events)).toBe('manifest.csv is missing from the bundle')
  })

  it('when the OneRoster version is not 1.1 or 1.2, naming the value', async () => {
    const reason = failure((await readFiles(withManifest(manifest('1.3', {})))).events)
    expect(reason).toContain(`'1.3' is not a valid OneRoster version`)
    expect(reason).toContain('oneroster.version')
  })

  it('when a file mode is not absent, bulk or delta', async () => {
    const reason = failure((await readFiles(withManifest(manifest('1.1', { users: 'Bulk' })))).events)
    expect(reason).toBe(`manifest.csv: 'file.users' must be one of 'absent', 'bulk', or 'delta' (line 16 has 'Bulk')`)
  })

  it('when a property appears twice', async () => {
    const reason = failure((await readFiles(withManifest(manifest('1.1', { orgs: 'bulk' }, ['file.orgs,delta'])))).events)
    expect(reason).toMatch(/^manifest\.csv: property 'file\.orgs' appears more than once \(lines \d+ and \d+\)$/)
  })

  it('when a file marked bulk or delta is not in the bundle', async () => {
    const files = district11()
    delete files['users.csv']
    expect(failure((await readFiles(files)).events)).toBe(`manifest.csv: 'file.users' is 'bulk' but users.csv is not in the bundle`)
  })

  it('when a required property is missing', async () => {
    expect(failure((await readFiles(withManifest(base(['manifest.version,1.0', ...bulkRostering])))).events)).toBe(
      `manifest.csv: required property 'oneroster.version' is missing`,
    )
    expect(failure((await readFiles(withManifest(base(['oneroster.version,1.1', ...bulkRostering])))).events)).toBe(
      `manifest.csv: required property 'manifest.version' is missing`,
    )
    expect(
      failure(
        (await readFiles(withManifest(base(['manifest.version,1.0', 'oneroster.version,1.1', ...bulkRostering.slice(0, -1)])))).events,
      ),
    ).toBe(`manifest.csv: required property 'file.enrollments' is missing`)
  })

  it('when the manifest version is not 1.0', async () => {
    const reason = failure(
      (await readFiles(withManifest(base(['manifest.version,2.0', 'oneroster.version,1.1', ...bulkRostering])))).events,
    )
    expect(reason).toContain(`'2.0' is not a valid manifest version`)
  })

  it('when the manifest has no propertyName column', async () => {
    expect(failure((await readFiles(withManifest(csv('name,value', 'manifest.version,1.0')))).events)).toContain(`'propertyName'`)
  })

  it('when a 1.2 bundle lacks the roles property', async () => {
    const files = district12()
    files['manifest.csv'] = base(['manifest.version,1.0', 'oneroster.version,1.2', ...bulkRostering])
    expect(failure((await readFiles(files)).events)).toBe(`manifest.csv: required property 'file.roles' is missing`)
  })

  it('when a file lacks a required column, naming file and column, before any record is emitted', async () => {
    const files = district11()
    files['users.csv'] = csv(
      'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,familyName',
      'u1,,,true,sch1,student,u,One',
    )
    const { events } = await readFiles(files)
    expect(failure(events)).toBe(`users.csv: required column 'givenName' is missing from the header`)
    expect((events[0] as SyncStarted).modes).toEqual({})
  })

  it('when a file has no sourcedId column', async () => {
    expect(failure((await readFiles(orgsBundle(csv('id,name,type', 'sch1,A,school')))).events)).toBe(
      `orgs.csv: required column 'sourcedId' is missing from the header`,
    )
  })

  it('when a header names a column twice', async () => {
    expect(failure((await readFiles(orgsBundle(csv('sourcedId,name,type,name', 'sch1,A,school,B')))).events)).toBe(
      `orgs.csv: column 'name' appears more than once in the header`,
    )
  })

  it('when a file marked bulk is empty, without even a header', async () => {
    expect(failure((await readFiles(orgsBundle(''))).events)).toBe('orgs.csv: the file is empty; a header row is required')
  })
})

describe('notes that do not fail the sync', () => {
  it('ignores a file marked absent that is present, and says so', async () => {
    const files = { ...district11(), 'manifest.csv': manifest('1.1', { orgs: 'bulk' }) }
    const { events, issues } = await readFiles(files)
    expect((events[0] as SyncStarted).modes).toEqual({ org: 'full' })
    expect(records(events).every((e) => e.entity === 'org')).toBe(true)
    expect(issues).toContainEqual({
      file: 'manifest.csv',
      line: null,
      field: 'file.users',
      message: `users.csv is in the bundle but 'file.users' is 'absent'; the file is ignored`,
    })
  })

  it('notes an unknown manifest property', async () => {
    const { issues } = await readFiles({ ...district11(), 'manifest.csv': manifest('1.1', { orgs: 'bulk' }, ['file.roles,bulk']) })
    expect(issues).toContainEqual(expect.objectContaining({ field: 'file.roles', message: expect.stringContaining('unknown property') }))
  })
})

describe('progress', () => {
  it('reports each file read, with rows and bytes, ending at the total size', async () => {
    const updates: { file: string; rows: number; bytes: number; totalBytes: number }[] = []
    await readFiles(district11(), { onProgress: (p) => updates.push(p) })
    const total = updates[0]?.totalBytes
    const expected = Object.entries(district11())
      .filter(([n]) => n !== 'manifest.csv')
      .reduce((s, [, c]) => s + Buffer.byteLength(c), 0)
    expect(total).toBe(expected)
    expect(new Set(updates.map((u) => u.file))).toEqual(
      new Set(['orgs.csv', 'academicSessions.csv', 'courses.csv', 'users.csv', 'classes.csv', 'enrollments.csv']),
    )
    expect(updates.at(-1)).toEqual({ file: 'enrollments.csv', rows: 2, bytes: expected, totalBytes: expected })
  })
})

describe('bundleFingerprint', () => {
  it('is stable, the same for a folder and a zip of the same files, and changes with any content', async () => {
    const folder = await writeFolder(join(dir, 'a'), district11())
    const zipPath = join(dir, 'a.zip')
    await writeFile(zipPath, zipOf(district11(), { deflate: true }))
    const changed = await writeFolder(join(dir, 'b'), { ...district11(), 'orgs.csv': ORGS.replace('Fremont', 'Fremont ') })
    const fp = await bundleFingerprint(folder)
    expect(fp).toMatch(/^[0-9a-f]{64}$/)
    expect(await bundleFingerprint(folder)).toBe(fp)
    expect(await bundleFingerprint(zipPath)).toBe(fp)
    expect(await bundleFingerprint(changed)).not.toBe(fp)
  })

  it('rejects a path that does not exist', async () => {
    await expect(bundleFingerprint(join(dir, 'nope'))).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' })
  })
})

describe('usage errors', () => {
  it('throws on an occurredAt that is not an ISO instant', async () => {
    const gen = readOneRosterBundle({ path: dir, tenant: 't', syncId: 's', occurredAt: 'yesterday' })
    await expect(gen.next()).rejects.toMatchObject({ code: 'USAGE' })
  })
})
