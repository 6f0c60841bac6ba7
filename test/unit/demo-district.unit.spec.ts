import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, describe, expect, it } from 'vitest'
import { DEMO_DEFAULT_SEED, FORMULA_NAME, generateDemoNights, type OneRosterTables, type Row } from '../../src/demo/district.js'
import { createPrng } from '../../src/demo/prng.js'
import {
  ONEROSTER_11_COLUMNS, ONEROSTER_11_FILES, ROSTER_FILES, oneRosterCsv, writeOneRosterBundle, type RosterFile,
} from '../../src/demo/write-oneroster.js'

const demo = generateDemoNights({ seed: 7 })
const { night1, night2, changes, story } = demo

const ids = (rows: readonly Row[]): string[] => rows.map((r) => r.sourcedId ?? '')
const byId = (rows: readonly Row[]): Map<string, Row> => new Map(rows.map((r) => [r.sourcedId ?? '', r]))
const list = (v: string | undefined): string[] => (v ? v.split(',') : [])
const students = (t: OneRosterTables): Row[] => t.users.filter((u) => u.role === 'student')
const sorted = (xs: Iterable<string>): string[] => [...xs].sort()

/** Per table: ids only in night 1, ids only in night 2, ids whose (first) row changed, ids with more than one row. */
function diff(a: readonly Row[], b: readonly Row[]): { removed: string[]; added: string[]; changed: string[]; repeated: string[] } {
  const before = byId(a)
  const after = byId(b)
  const counts = new Map<string, number>()
  for (const id of ids(b)) counts.set(id, (counts.get(id) ?? 0) + 1)
  return {
    removed: sorted([...before.keys()].filter((id) => !after.has(id))),
    added: sorted([...after.keys()].filter((id) => !before.has(id))),
    changed: sorted([...before.keys()].filter((id) => {
      const first = b.find((r) => r.sourcedId === id)
      return first !== undefined && JSON.stringify(first) !== JSON.stringify(before.get(id))
    })),
    repeated: sorted([...counts].filter(([, n]) => n > 1).map(([id]) => id)),
  }
}

describe('generateDemoNights: determinism', () => {
  it('the same seed gives the same nights and story', () => {
    expect(generateDemoNights({ seed: 7 })).toStrictEqual(demo)
    expect(generateDemoNights({})).toStrictEqual(generateDemoNights({ seed: DEMO_DEFAULT_SEED }))
  })

  it('a different seed gives a different district', () => {
    const other = generateDemoNights({ seed: 8 })
    expect(other.night1.users).not.toStrictEqual(night1.users)
    expect(other.night1.enrollments).not.toStrictEqual(night1.enrollments)
    expect(other.story).not.toStrictEqual(story)
  })

  it('the PRNG is mulberry32-deterministic and stays in range', () => {
    const a = createPrng(42)
    const b = createPrng(42)
    const xs = Array.from({ length: 1000 }, () => a.next())
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()))
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
    const ints = Array.from({ length: 1000 }, () => a.int(3, 6))
    expect(new Set(ints)).toEqual(new Set([3, 4, 5, 6]))
    expect(a.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5])
  })
})

describe('night 1: the district', () => {
  const orgs = byId(night1.orgs)
  const classes = byId(night1.classes)
  const users = byId(night1.users)

  it('sourcedIds are unique in every file and every row has exactly the 1.1 columns', () => {
    for (const file of ROSTER_FILES) {
      expect(new Set(ids(night1[file])).size, file).toBe(night1[file].length)
      for (const row of night1[file]) expect(Object.keys(row), file).toEqual(ONEROSTER_11_COLUMNS[file])
    }
  })

  it('Emerson Unified has 2 high schools, a middle and an elementary school; Garrison Valley has 1 high school', () => {
    expect(orgs.get('dist-emerson')).toMatchObject({ name: 'Emerson Unified', type: 'district' })
    expect(orgs.get('dist-garrison')).toMatchObject({ name: 'Garrison Valley', type: 'district' })
    const schools = night1.orgs.filter((o) => o.type === 'school')
    const emerson = schools.filter((s) => s.parentSourcedId === 'dist-emerson').map((s) => s.name ?? '')
    expect(emerson.filter((n) => n.endsWith('High School'))).toHaveLength(2)
    expect(emerson.filter((n) => n.endsWith('Middle School'))).toHaveLength(1)
    expect(emerson.filter((n) => n.endsWith('Elementary School'))).toHaveLength(1)
    expect(schools.filter((s) => s.parentSourcedId === 'dist-garrison').map((s) => s.name)).toEqual(['Garrison Valley High School'])
  })

  it('one school year and two semesters; about 20 courses and 40 sections with code, room, period and terms', () => {
    expect(night1.academicSessions.map((s) => s.type)).toEqual(['schoolYear', 'semester', 'semester'])
    expect(night1.courses).toHaveLength(20)
    expect(night1.classes).toHaveLength(40)
    for (const c of night1.classes) {
      expect(c.classCode).toMatch(/^[A-Z0-9]+-0[12]$/)
      expect(c.location).toMatch(/^Room \d+$/)
      expect(list(c.periods)).toHaveLength(1)
      expect(list(c.termSourcedIds).length).toBeGreaterThanOrEqual(1)
    }
  })

  it('25 teachers with emails, each the primary teacher of their sections; every section has exactly one', () => {
    const teachers = night1.users.filter((u) => u.role === 'teacher')
    expect(teachers).toHaveLength(25)
    for (const t of teachers) expect(t.email).toMatch(/^[a-z0-9.]+@emersonusd\.org$/)
    for (const c of night1.classes) {
      const primary = night1.enrollments.filter((e) => e.classSourcedId === c.sourcedId && e.role === 'teacher')
      expect(primary, c.sourcedId).toHaveLength(1)
      expect(primary[0]).toMatchObject({ primary: 'true', schoolSourcedId: c.schoolSourcedId })
      expect(users.get(primary[0]?.userSourcedId ?? '')?.role).toBe('teacher')
    }
  })

  it('about 300 Emerson students, each in 3-6 sections of their home school, enrolled within the term', () => {
    const emerson = students(night1).filter((s) => orgs.get(list(s.orgSourcedIds)[0] ?? '')?.parentSourcedId === 'dist-emerson')
    expect(emerson).toHaveLength(300)
    const sessions = byId(night1.academicSessions)
    for (const s of emerson) {
      expect(s.identifier).toMatch(/^\d{6}$/)
      const home = list(s.orgSourcedIds)[0]
      const atHome = night1.enrollments.filter((e) => e.userSourcedId === s.sourcedId && e.schoolSourcedId === home)
      expect(atHome.length, s.sourcedId).toBeGreaterThanOrEqual(3)
      expect(atHome.length, s.sourcedId).toBeLessThanOrEqual(6)
    }
    for (const e of night1.enrollments) {
      const terms = list(classes.get(e.classSourcedId ?? '')?.termSourcedIds).map((t) => sessions.get(t))
      expect(e.beginDate! >= (terms[0]?.startDate ?? '')).toBe(true)
      expect(e.endDate! <= (terms[terms.length - 1]?.endDate ?? '')).toBe(true)
      expect(e.beginDate! < e.endDate!).toBe(true)
      expect(e.schoolSourcedId).toBe(classes.get(e.classSourcedId ?? '')?.schoolSourcedId)
    }
  })

  it('about 12 cross-site students take a section at an Emerson high school away from their home school', () => {
    const crossSite = students(night1).filter((s) => night1.enrollments.some((e) =>
      e.userSourcedId === s.sourcedId && e.schoolSourcedId !== list(s.orgSourcedIds)[0]))
    expect(crossSite).toHaveLength(12)
    const homes = crossSite.map((s) => list(s.orgSourcedIds)[0])
    expect(homes.filter((h) => h === 'sch-garrison-hs')).toHaveLength(4)
    expect(homes).toContain('sch-cedar-ms')
    for (const s of crossSite) {
      const served = night1.enrollments.filter((e) => e.userSourcedId === s.sourcedId && e.schoolSourcedId !== list(s.orgSourcedIds)[0])
      for (const e of served) expect(['sch-emerson-hs', 'sch-lincoln-hs']).toContain(e.schoolSourcedId)
    }
  })
})

describe('night 2 differs from night 1 in exactly the story\'s ways', () => {
  it('orgs and sessions are unchanged', () => {
    expect(night2.orgs).toStrictEqual(night1.orgs)
    expect(night2.academicSessions).toStrictEqual(night1.academicSessions)
  })

  it('courses: one retitled', () => {
    expect(diff(night1.courses, night2.courses)).toEqual({ removed: [], added: [], changed: [changes.courseRetitle.courseId], repeated: [] })
    expect(byId(night2.courses).get(changes.courseRetitle.courseId)?.title).toBe(changes.courseRetitle.to)
  })

  it('classes: one removed, one moved to another room', () => {
    expect(diff(night1.classes, night2.classes)).toEqual({
      removed: [changes.removedClass.classId], added: [], changed: [changes.roomChange.classId], repeated: [],
    })
    expect(byId(night2.classes).get(changes.roomChange.classId)?.location).toBe(changes.roomChange.to)
  })

  it('users: one renamed teacher, one malformed email, one removed, three new (one without email, one formula), one conflicting duplicate', () => {
    const b = changes.bad
    expect(diff(night1.users, night2.users)).toEqual({
      removed: [changes.removedStudent.userId],
      added: sorted([changes.newStudent.userId, b.teacherWithoutEmail, b.formulaStudent.userId]),
      changed: sorted([changes.renamedTeacher.userId, b.malformedEmail.userId]),
      repeated: [b.conflictingUser.userId],
    })
    const after = byId(night2.users)
    const before = byId(night1.users)
    expect(after.get(changes.renamedTeacher.userId)?.familyName).toBe(changes.renamedTeacher.to)
    expect(before.get(changes.renamedTeacher.userId)?.familyName).toBe(changes.renamedTeacher.from)
    expect(after.get(b.teacherWithoutEmail)).toMatchObject({ role: 'teacher', email: '' })
    expect(after.get(b.malformedEmail.userId)?.email).toMatch(/^[^@]+@$/)
    expect(after.get(b.formulaStudent.userId)?.givenName).toBe(FORMULA_NAME)
    const twice = night2.users.filter((u) => u.sourcedId === b.conflictingUser.userId)
    expect(twice.map((u) => u.givenName)).toEqual([before.get(b.conflictingUser.userId)?.givenName, b.conflictingUser.givenName])
    expect(twice[0]?.givenName).not.toBe(twice[1]?.givenName)
  })

  it('the renamed teacher still primarily teaches every one of their sections (each shows Updated Section Data)', () => {
    const taught = night2.enrollments.filter((e) => e.userSourcedId === changes.renamedTeacher.userId && e.primary === 'true')
    expect(sorted(taught.map((e) => e.classSourcedId ?? ''))).toEqual(sorted(changes.renamedTeacher.classIds))
    expect(changes.renamedTeacher.classIds.length).toBeGreaterThanOrEqual(2)
    expect(story.some((s) => s.includes(`"${changes.renamedTeacher.from}, `) && s.includes(`"${changes.renamedTeacher.to}, `))).toBe(true)
  })

  it('the removed section keeps exactly 2 student enrollments in the file, which now reference a missing class', () => {
    const left = night2.enrollments.filter((e) => e.classSourcedId === changes.removedClass.classId)
    expect(sorted(ids(left))).toEqual(sorted(changes.removedClass.keptEnrollments))
    expect(left.every((e) => e.role === 'student')).toBe(true)
    expect(left.every((e) => JSON.stringify(e) === JSON.stringify(byId(night1.enrollments).get(e.sourcedId ?? '')))).toBe(true)
  })

  it('enrollments: drops, adds, date changes, removed section and student, bad rows, and nothing else', () => {
    const b = changes.bad
    const d = diff(night1.enrollments, night2.enrollments)
    expect(d).toEqual({
      removed: sorted([...changes.droppedEnrollments, ...changes.removedClass.deletedEnrollments, ...changes.removedStudent.enrollmentIds]),
      added: sorted([
        ...changes.addedEnrollments, ...changes.newStudent.enrollmentIds, ...b.formulaStudent.enrollmentIds, b.endBeforeBegin, b.unknownUserEnrollment,
      ]),
      changed: sorted([...changes.endDateChanges, ...changes.beginDateChanges].map((c) => c.enrollmentId)),
      repeated: [b.duplicateEnrollment],
    })
    expect(changes.droppedEnrollments).toHaveLength(8)
    expect(changes.addedEnrollments).toHaveLength(10)
    expect(changes.endDateChanges).toHaveLength(6)
    expect(changes.beginDateChanges).toHaveLength(3)
    expect(night2.enrollments.length).toBe(night1.enrollments.length - d.removed.length + d.added.length + 1)
    const after = byId(night2.enrollments)
    for (const c of changes.endDateChanges) expect(after.get(c.enrollmentId)?.endDate).toBe(c.to)
    for (const c of changes.beginDateChanges) expect(after.get(c.enrollmentId)?.beginDate).toBe(c.to)
    const invalid = after.get(b.endBeforeBegin)
    expect(invalid!.endDate! < invalid!.beginDate!).toBe(true)
    expect(byId(night2.users).has(after.get(b.unknownUserEnrollment)?.userSourcedId ?? '')).toBe(false)
    const dups = night2.enrollments.filter((e) => e.sourcedId === b.duplicateEnrollment)
    expect(dups).toHaveLength(2)
    expect(dups[0]).toStrictEqual(dups[1])
  })

  it('one added section belongs to a Garrison Valley student at their serving school', () => {
    const users = byId(night2.users)
    const visiting = changes.addedEnrollments.map((id) => byId(night2.enrollments).get(id)).filter((e) =>
      list(users.get(e?.userSourcedId ?? '')?.orgSourcedIds)[0] === 'sch-garrison-hs')
    expect(visiting).toHaveLength(1)
  })

  it('the story tells each change in one sentence', () => {
    expect(story).toHaveLength(1 + 8 + 10 + 6 + 3 + 1 + 1 + 1 + 1 + 1 + 7)
    expect(story.filter((s) => s.startsWith('Bad row:'))).toHaveLength(7)
    expect(story.filter((s) => s.includes(' dropped '))).toHaveLength(8)
    expect(story.filter((s) => s.includes(' added ') && !s.startsWith('Bad row:'))).toHaveLength(10)
    for (const s of story) expect(s).toMatch(/[.]$/)
  })

  it('stays far below the hold thresholds (deletes < 10 %, updates < 75 % per type)', () => {
    for (const file of ROSTER_FILES) {
      const d = diff(night1[file], night2[file])
      expect(d.removed.length / night1[file].length, file).toBeLessThan(0.05)
      expect(d.changed.length / night1[file].length, file).toBeLessThan(0.1)
    }
  })

  it('holds for other seeds too', () => {
    for (const seed of [1, 2, 3, 99, 123456]) {
      const n = generateDemoNights({ seed })
      expect(n.story, `seed ${seed}`).toHaveLength(40)
      expect(n.night1.classes.length - n.night2.classes.length).toBe(1)
      expect(n.night2.enrollments.filter((e) => e.classSourcedId === n.changes.removedClass.classId)).toHaveLength(2)
    }
  })
})

describe('writeOneRosterBundle', () => {
  const dirs: string[] = []
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'synclog-demo-'))
    dirs.push(dir)
    return dir
  }
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })
  const readCsv = async (dir: string, file: string): Promise<string[][]> =>
    parse(await readFile(join(dir, file), 'utf8'), { relax_column_count: false }) as string[][]

  it('writes a 1.1 manifest and the six rostering files in spec column order, rows intact', async () => {
    const dir = await tempDir()
    await writeOneRosterBundle(dir, night2)
    expect(sorted(await readdir(dir))).toEqual(sorted(['manifest.csv', ...ROSTER_FILES.map((f) => `${f}.csv`)]))
    expect(await readCsv(dir, 'manifest.csv')).toEqual([
      ['propertyName', 'value'],
      ['manifest.version', '1.0'],
      ['oneroster.version', '1.1'],
      ...ONEROSTER_11_FILES.map((f) => [`file.${f}`, (ROSTER_FILES as readonly string[]).includes(f) ? 'bulk' : 'absent']),
    ])
    expect(ONEROSTER_11_FILES).toHaveLength(13)
    for (const file of ROSTER_FILES) {
      const [header, ...rows] = await readCsv(dir, `${file}.csv`)
      expect(header, file).toEqual(ONEROSTER_11_COLUMNS[file])
      expect(rows.map((r) => Object.fromEntries(r.map((v, i) => [header?.[i] ?? '', v]))), file).toEqual(night2[file])
      expect(rows.every((r) => r[1] === '' && r[2] === ''), `${file}: bulk rows leave status and dateLastModified blank`).toBe(true)
    }
  })

  it('quotes lists and fields with quotes; keeps the formula name as plain text', async () => {
    const dir = await tempDir()
    await writeOneRosterBundle(dir, night2)
    const classes = await readFile(join(dir, 'classes.csv'), 'utf8')
    expect(classes).toContain('"as-2026-s1,as-2026-s2"')
    const users = await readFile(join(dir, 'users.csv'), 'utf8')
    expect(users).toContain('"=HYPERLINK(""http://x"",""click"")"')
    expect(users.startsWith('\uFEFF')).toBe(false)
  })

  it('marks delta files in the manifest and leaves empty tables out (absent)', async () => {
    const dir = await tempDir()
    await writeOneRosterBundle(dir, { ...night1, courses: [] }, { enrollments: 'delta', users: 'delta' })
    const manifest = new Map((await readCsv(dir, 'manifest.csv')).map(([k, v]) => [k, v]))
    expect(manifest.get('file.enrollments')).toBe('delta')
    expect(manifest.get('file.users')).toBe('delta')
    expect(manifest.get('file.classes')).toBe('bulk')
    expect(manifest.get('file.courses')).toBe('absent')
    expect(await readdir(dir)).not.toContain('courses.csv')
  })

  it('puts metadata.* columns right of the spec columns and refuses unknown columns and line breaks', () => {
    const row = { ...night1.classes[0], 'metadata.maxStudents': '25' }
    const [header] = parse(oneRosterCsv('classes', [row])) as string[][]
    expect(header).toEqual([...ONEROSTER_11_COLUMNS.classes, 'metadata.maxStudents'])
    expect(() => oneRosterCsv('classes', [{ ...row, teacher: 'x' }])).toThrow(/not a OneRoster 1.1 column/)
    expect(() => oneRosterCsv('classes', [{ ...row, title: 'two\nlines' }])).toThrow(/line breaks/)
  })

  it('header order matches oneroster-facts.md 1.5 for users (1.1)', () => {
    const file: RosterFile = 'users'
    expect(ONEROSTER_11_COLUMNS[file]).toEqual([
      'sourcedId', 'status', 'dateLastModified', 'enabledUser', 'orgSourcedIds', 'role', 'username', 'userIds', 'givenName', 'familyName',
      'middleName', 'identifier', 'email', 'sms', 'phone', 'agentSourcedIds', 'grades', 'password',
    ])
  })
})

describe('the demo calendar', () => {
  it('names the school year by its end year, turning over on 1 July', async () => {
    const { currentSchoolYear } = await import('../../src/demo/school-year.js')
    expect(currentSchoolYear(new Date('2026-11-23T00:00:00Z'))).toBe(2027)
    expect(currentSchoolYear(new Date('2027-03-01T00:00:00Z'))).toBe(2027)
    expect(currentSchoolYear(new Date('2027-07-01T00:00:00Z'))).toBe(2028)
  })

  it('moves every term and enrollment date to the requested school year', async () => {
    const { generateDemoNights } = await import('../../src/demo/district.js')
    const base = generateDemoNights({ seed: 7 })
    const moved = generateDemoNights({ seed: 7, schoolYear: 2028 })
    const year = moved.night1.academicSessions.find((s) => s.type === 'schoolYear')!
    expect(year.schoolYear).toBe('2028')
    expect(year.startDate!.slice(0, 4)).toBe('2027')
    const e0 = base.night2.enrollments[0]!
    const e1 = moved.night2.enrollments[0]!
    expect(Number(e1.beginDate!.slice(0, 4)) - Number(e0.beginDate!.slice(0, 4))).toBe(2)
    expect(moved.night2.users).toEqual(base.night2.users)
  })
})
