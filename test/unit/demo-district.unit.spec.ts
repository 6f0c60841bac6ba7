/**
 * The demo district as a user of `synclog demo` meets it: a clean first night, and a
 * second night whose story (printed by the demo) is true of the exports and of the sync
 * log the fold writes for them.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LogRow, SyncLogEvent } from '../../src/events/sync-log-event.js'
import { DEMO_DEFAULT_SEED, FORMULA_NAME, generateDemoNights, type OneRosterTables, type Row } from '../../src/demo/district.js'
import { ONEROSTER_11_FILES } from '../../src/oneroster/manifest.js'
import { ONEROSTER_11_COLUMNS, ROSTER_FILES, oneRosterCsv, writeOneRosterBundle, type RosterFile } from '../../src/demo/write-oneroster.js'
import { createProcessorState, DEFAULT_FOLD_OPTIONS, evolve, step } from '../../src/processor/index.js'
import { nightEvents } from '../support/stream-events.js'

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
    changed: sorted(
      [...before.keys()].filter((id) => {
        const first = b.find((r) => r.sourcedId === id)
        return first !== undefined && JSON.stringify(first) !== JSON.stringify(before.get(id))
      }),
    ),
    repeated: sorted([...counts].filter(([, n]) => n > 1).map(([id]) => id)),
  }
}

/** The sync-log rows of folding night 1 and then night 2 as syncs of one tenant, and every sync's last status. */
interface Folded {
  readonly rows: readonly LogRow[]
  readonly statuses: ReadonlyMap<string, string>
}

async function foldNights(tables: readonly OneRosterTables[]): Promise<Folded> {
  const dir = await mkdtemp(join(tmpdir(), 'synclog-demo-fold-'))
  try {
    const state = createProcessorState()
    const out: SyncLogEvent[] = []
    for (const [i, t] of tables.entries()) {
      await writeOneRosterBundle(join(dir, `night${i + 1}`), t)
      const inputs = (await nightEvents(dir, i + 1, `night-${i + 1}`)).map((event, n) => ({ event, offset: String(n) }))
      for (let from = 0; from < inputs.length;) {
        const result = step(state, inputs, DEFAULT_FOLD_OPTIONS, from)
        out.push(...result.outputs)
        evolve(state, result.changes)
        from += result.consumed
      }
    }
    const statuses = new Map<string, string>()
    for (const e of out) if (e.kind === 'SyncStatusChanged') statuses.set(e.syncId, e.status)
    return { rows: out.filter((e): e is LogRow => e.kind === 'LogRow'), statuses }
  } finally {
    await rm(dir, { recursive: true, force: true })
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
})

describe('night 1: the district', () => {
  const orgs = byId(night1.orgs)
  const classes = byId(night1.classes)
  const users = byId(night1.users)
  const districts = night1.orgs.filter((o) => o.type === 'district')
  const emerson = districts[0]!
  const garrison = districts[1]!
  const schoolsOf = (d: Row): Row[] => night1.orgs.filter((o) => o.type === 'school' && o.parentSourcedId === d.sourcedId)
  const emersonSchools = new Set(schoolsOf(emerson).map((s) => s.sourcedId))

  it('sourcedIds are unique in every file and every row has exactly the 1.1 columns', () => {
    for (const file of ROSTER_FILES) {
      expect(new Set(ids(night1[file])).size, file).toBe(night1[file].length)
      for (const row of night1[file]) expect(Object.keys(row), file).toEqual(ONEROSTER_11_COLUMNS[file])
    }
  })

  it('Emerson has 2 high schools, a middle and an elementary school; its neighbour Garrison Valley has 1 high school', () => {
    expect(districts).toHaveLength(2)
    expect(emerson.name).toMatch(/^Emerson /)
    expect(garrison.name).toMatch(/^Garrison Valley /)
    const names = schoolsOf(emerson).map((s) => s.name ?? '')
    expect(names.filter((n) => n.endsWith('High School'))).toHaveLength(2)
    expect(names.filter((n) => n.endsWith('Middle School'))).toHaveLength(1)
    expect(names.filter((n) => n.endsWith('Elementary School'))).toHaveLength(1)
    expect(schoolsOf(garrison).map((s) => s.name ?? '')).toEqual([expect.stringMatching(/High School$/)])
  })

  it('one school year and two semesters; every section has a code, a room, one period and its terms', () => {
    expect(night1.academicSessions.map((s) => s.type)).toEqual(['schoolYear', 'semester', 'semester'])
    const sessions = new Set(ids(night1.academicSessions))
    for (const c of night1.classes) {
      expect(c.classCode).toMatch(/^[A-Z0-9]+-\d\d$/)
      expect(c.location).toMatch(/^Room \d+B?$/)
      expect(list(c.periods)).toHaveLength(1)
      expect(list(c.termSourcedIds).length).toBeGreaterThanOrEqual(1)
      for (const t of list(c.termSourcedIds)) expect(sessions.has(t)).toBe(true)
    }
  })

  it('teachers have emails and every section has exactly one primary teacher', () => {
    const teachers = night1.users.filter((u) => u.role === 'teacher')
    expect(teachers.length).toBeGreaterThan(10)
    for (const t of teachers) expect(t.email).toMatch(/^[a-z0-9.]+@[a-z]+\.org$/)
    for (const c of night1.classes) {
      const primary = night1.enrollments.filter((e) => e.classSourcedId === c.sourcedId && e.role === 'teacher')
      expect(primary, c.sourcedId).toHaveLength(1)
      expect(primary[0]).toMatchObject({ primary: 'true', schoolSourcedId: c.schoolSourcedId })
      expect(users.get(primary[0]?.userSourcedId ?? '')?.role).toBe('teacher')
    }
  })

  it('about 200 Emerson students, each in sections of their home school, enrolled within the term', () => {
    const own = students(night1).filter((s) => emersonSchools.has(list(s.orgSourcedIds)[0]))
    expect(own.length).toBeGreaterThan(170)
    expect(own.length).toBeLessThan(230)
    const sessions = byId(night1.academicSessions)
    for (const s of own) {
      expect(s.identifier).toMatch(/^\d{6}$/)
      const home = list(s.orgSourcedIds)[0]
      expect(
        night1.enrollments.filter((e) => e.userSourcedId === s.sourcedId && e.schoolSourcedId === home).length,
        s.sourcedId,
      ).toBeGreaterThanOrEqual(3)
    }
    for (const e of night1.enrollments) {
      const terms = list(classes.get(e.classSourcedId ?? '')?.termSourcedIds).map((t) => sessions.get(t))
      expect(e.beginDate! >= (terms[0]?.startDate ?? '')).toBe(true)
      expect(e.endDate! <= (terms[terms.length - 1]?.endDate ?? '')).toBe(true)
      expect(e.beginDate! < e.endDate!).toBe(true)
      expect(e.schoolSourcedId).toBe(classes.get(e.classSourcedId ?? '')?.schoolSourcedId)
    }
  })

  it('cross-site students, some visiting from Garrison Valley, take sections at an Emerson school away from home', () => {
    const crossSite = students(night1).filter((s) =>
      night1.enrollments.some((e) => e.userSourcedId === s.sourcedId && e.schoolSourcedId !== list(s.orgSourcedIds)[0]),
    )
    const homes = crossSite.map((s) => orgs.get(list(s.orgSourcedIds)[0] ?? ''))
    expect(homes.filter((h) => h?.parentSourcedId === garrison.sourcedId).length).toBeGreaterThanOrEqual(2)
    for (const s of crossSite) {
      const served = night1.enrollments.filter((e) => e.userSourcedId === s.sourcedId && e.schoolSourcedId !== list(s.orgSourcedIds)[0])
      for (const e of served) expect(emersonSchools.has(e.schoolSourcedId)).toBe(true)
      expect(list(s.orgSourcedIds)).toEqual(expect.arrayContaining(served.map((e) => e.schoolSourcedId)))
    }
  })
})

describe("night 2 differs from night 1 in exactly the story's ways", () => {
  it('orgs and sessions are unchanged', () => {
    expect(night2.orgs).toStrictEqual(night1.orgs)
    expect(night2.academicSessions).toStrictEqual(night1.academicSessions)
  })

  it('courses: one retitled', () => {
    expect(diff(night1.courses, night2.courses)).toEqual({
      removed: [],
      added: [],
      changed: [changes.courseRetitle.courseId],
      repeated: [],
    })
    expect(byId(night2.courses).get(changes.courseRetitle.courseId)?.title).toBe(changes.courseRetitle.to)
  })

  it('classes: one removed, one moved to another room', () => {
    expect(diff(night1.classes, night2.classes)).toEqual({
      removed: [changes.removedClass.classId],
      added: [],
      changed: [changes.roomChange.classId],
      repeated: [],
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

  it('the renamed teacher still primarily teaches every one of their sections', () => {
    const taught = night2.enrollments.filter((e) => e.userSourcedId === changes.renamedTeacher.userId && e.primary === 'true')
    expect(sorted(taught.map((e) => e.classSourcedId ?? ''))).toEqual(sorted(changes.renamedTeacher.classIds))
    expect(changes.renamedTeacher.classIds.length).toBeGreaterThanOrEqual(2)
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
        ...changes.addedEnrollments,
        ...changes.newStudent.enrollmentIds,
        ...b.formulaStudent.enrollmentIds,
        b.endBeforeBegin,
        b.unknownUserEnrollment,
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
    const garrison = night1.orgs.filter((o) => o.type === 'district')[1]!
    const garrisonSchools = new Set(night1.orgs.filter((o) => o.parentSourcedId === garrison.sourcedId).map((o) => o.sourcedId))
    const visiting = changes.addedEnrollments
      .map((id) => byId(night2.enrollments).get(id))
      .filter((e) => garrisonSchools.has(list(users.get(e?.userSourcedId ?? '')?.orgSourcedIds)[0]))
    expect(visiting).toHaveLength(1)
    expect(list(users.get(visiting[0]?.userSourcedId ?? '')?.orgSourcedIds)).toContain(visiting[0]?.schoolSourcedId)
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
      expect(n.story, `seed ${seed}`).toHaveLength(story.length)
      expect(n.night1.classes.length - n.night2.classes.length).toBe(1)
      expect(n.night2.enrollments.filter((e) => e.classSourcedId === n.changes.removedClass.classId)).toHaveLength(2)
    }
  })
})

describe('imported, the nights show what the story tells', () => {
  let log: Folded
  beforeAll(async () => {
    log = await foldNights([night1, night2])
  }, 60_000)

  const users1 = byId(night1.users)
  const users2 = byId(night2.users)
  const classes1 = byId(night1.classes)
  const enrollments1 = byId(night1.enrollments)
  const enrollments2 = byId(night2.enrollments)
  const enrollment = (id: string): Row => enrollments2.get(id) ?? enrollments1.get(id)!
  const studentOf = (enrollmentId: string): string =>
    (users2.get(enrollment(enrollmentId).userSourcedId!) ?? users1.get(enrollment(enrollmentId).userSourcedId!))!.identifier!
  const codeOf = (enrollmentId: string): string => classes1.get(enrollment(enrollmentId).classSourcedId!)!.classCode!
  /** The night-2 rows about one record, as `action/outcome` (and the field, when the row names one). */
  const rowsOf = (sourcedId: string): string[] =>
    log.rows
      .filter((r) => r.syncId === 'night-2' && r.sourcedId === sourcedId)
      .map((r) => [r.action, r.outcome, r.field].filter((x) => x !== '').join('/'))
      .sort()
  const told = new Set<string>()
  /** The one story line that names every one of `facts`. */
  const lineNaming = (...facts: string[]): string => {
    const lines = story.filter((l) => facts.every((f) => l.includes(f)))
    expect(lines, facts.join(' | ')).toHaveLength(1)
    told.add(lines[0]!)
    return lines[0]!
  }

  it('night 1 imports clean: every record is New and the sync completes', () => {
    const night1Rows = log.rows.filter((r) => r.syncId === 'night-1')
    expect(night1Rows.length).toBeGreaterThan(night1.enrollments.length)
    expect(new Set(night1Rows.map((r) => r.outcome))).toEqual(new Set(['New']))
    expect(log.statuses.get('night-1')).toBe('Completed')
  })

  it('night 2 is not held: it completes, with errors for its bad rows', () => {
    expect(log.statuses.get('night-2')).toBe('Completed with Errors')
  })

  it('each drop, add and date change is a line naming the student and section, and a roster row in the log', () => {
    for (const id of changes.droppedEnrollments) {
      lineNaming(`(student ${studentOf(id)})`, ` ${codeOf(id)} `)
      expect(rowsOf(id)).toEqual(['Deleted Roster/Deleted'])
    }
    for (const id of changes.addedEnrollments) {
      lineNaming(`(student ${studentOf(id)})`, ` ${codeOf(id)} `, enrollment(id).beginDate!)
      expect(rowsOf(id)).toEqual(['Created Roster/New'])
    }
    for (const c of changes.endDateChanges) {
      lineNaming(`(student ${studentOf(c.enrollmentId)})`, ` ${codeOf(c.enrollmentId)} `, c.from, c.to)
      expect(rowsOf(c.enrollmentId)).toEqual(['Updated Roster End Date/Updated/endDate'])
    }
    for (const c of changes.beginDateChanges) {
      lineNaming(`(student ${studentOf(c.enrollmentId)})`, ` ${codeOf(c.enrollmentId)} `, c.from, c.to)
      expect(rowsOf(c.enrollmentId)).toEqual(['Updated Roster Start Date/Updated/beginDate'])
    }
  })

  it("the visiting student's add shows their home school in Garrison Valley and the Emerson school serving them", () => {
    const visiting = changes.addedEnrollments
      .map((id) => log.rows.find((r) => r.syncId === 'night-2' && r.sourcedId === id)!)
      .filter((r) => r.homeSchoolId !== r.servingSchoolId)
    expect(visiting).toHaveLength(1)
    expect(visiting[0]!.homeDistrict).toMatch(/^Garrison Valley /)
    expect(visiting[0]!.servingDistrict).toMatch(/^Emerson /)
    lineNaming(`(student ${visiting[0]!.studentNumber})`, visiting[0]!.homeSchool, visiting[0]!.servingSchool)
  })

  it('the removed section: its roster is deleted and the 2 enrollments left behind are Skipped', () => {
    const { classId, deletedEnrollments, keptEnrollments } = changes.removedClass
    lineNaming(classes1.get(classId)!.classCode!, ...keptEnrollments.map(studentOf))
    expect(rowsOf(classId)).toEqual(['Deleted/Deleted'])
    for (const id of keptEnrollments) expect(rowsOf(id)).toEqual(['Deleted Roster/Skipped', 'Skipped/Skipped/classSourcedId'])
    for (const id of deletedEnrollments) expect(rowsOf(id).length).toBeGreaterThanOrEqual(1)
  })

  it('the renamed teacher, the moved room and the retitled course show as Updated Section Data on their sections', () => {
    const t = changes.renamedTeacher
    const teacher = users1.get(t.userId)!
    lineNaming(
      teacher.identifier!,
      `"${t.from}, ${teacher.givenName}"`,
      `"${t.to}, ${teacher.givenName}"`,
      ...t.classIds.map((c) => classes1.get(c)!.classCode!),
    )
    for (const c of t.classIds) {
      expect(log.rows.find((r) => r.sourcedId === c && r.field === 'Teacher Display Name')?.newValue).toContain(
        `${t.to}, ${teacher.givenName}`,
      )
    }
    const room = changes.roomChange
    lineNaming(classes1.get(room.classId)!.classCode!, room.from, room.to)
    expect(log.rows.find((r) => r.sourcedId === room.classId && r.field === 'Room')?.newValue).toContain(room.to)
    const course = changes.courseRetitle
    lineNaming(`"${course.from}" -> "${course.to}"`)
    for (const c of course.classIds)
      expect(log.rows.find((r) => r.sourcedId === c && r.field === 'Course Name')?.newValue).toContain(course.to)
  })

  it('the new student arrives with their enrollments; the student who left is deleted with theirs', () => {
    const fresh = changes.newStudent
    lineNaming(`(student ${users2.get(fresh.userId)!.identifier})`, `in ${fresh.enrollmentIds.length} sections`)
    expect(rowsOf(fresh.userId)).toEqual(['New/New'])
    for (const id of fresh.enrollmentIds) expect(rowsOf(id)).toEqual(['Created Roster/New'])
    const gone = changes.removedStudent
    lineNaming(`(student ${users1.get(gone.userId)!.identifier})`, `all ${gone.enrollmentIds.length} of their enrollments`)
    expect(rowsOf(gone.userId)).toEqual(['Deleted/Deleted'])
    for (const id of gone.enrollmentIds) expect(rowsOf(id)).toEqual(['Deleted Roster/Deleted'])
  })

  it('each bad row is a line of the story and has the outcome the line names', () => {
    const b = changes.bad
    lineNaming(`(staff ${users2.get(b.teacherWithoutEmail)!.identifier})`, 'Skipped')
    expect(rowsOf(b.teacherWithoutEmail)).toEqual(['Skipped/Skipped/email'])
    lineNaming(`(student ${users1.get(b.malformedEmail.userId)!.identifier})`, `"${b.malformedEmail.email}"`, 'Invalid')
    expect(rowsOf(b.malformedEmail.userId)).toEqual(['Invalid/Invalid/email'])
    lineNaming(
      `(student ${studentOf(b.endBeforeBegin)})`,
      ` ${codeOf(b.endBeforeBegin)} `,
      enrollment(b.endBeforeBegin).endDate!,
      'Invalid',
    )
    expect(rowsOf(b.endBeforeBegin)).toEqual(['Created Roster/Invalid', 'Invalid/Invalid/endDate'])
    lineNaming(enrollment(b.unknownUserEnrollment).userSourcedId!, 'Skipped')
    expect(rowsOf(b.unknownUserEnrollment)).toEqual(['Skipped/Skipped/userSourcedId'])
    lineNaming(`(student ${studentOf(b.duplicateEnrollment)})`, ` ${codeOf(b.duplicateEnrollment)} `, 'Merged')
    expect(rowsOf(b.duplicateEnrollment)).toEqual(['Merged/Merged/sourcedId'])
    lineNaming(
      b.conflictingUser.userId,
      ` ${users1.get(b.conflictingUser.userId)!.givenName} `,
      ` ${b.conflictingUser.givenName} `,
      'Excluded',
    )
    expect(rowsOf(b.conflictingUser.userId)).toEqual(['Excluded/Excluded/sourcedId'])
    lineNaming(users2.get(b.formulaStudent.userId)!.identifier!, FORMULA_NAME, `in ${b.formulaStudent.enrollmentIds.length} sections`)
    expect(rowsOf(b.formulaStudent.userId)).toEqual(['New/New'])
    expect(
      log.rows.filter((r) => b.formulaStudent.enrollmentIds.includes(r.sourcedId)).every((r) => r.studentName.includes(FORMULA_NAME)),
    ).toBe(true)
  })

  it('the story has no line beyond the changes above', () => {
    expect(told.size).toBe(story.length)
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
      expect(
        rows.map((r) => Object.fromEntries(r.map((v, i) => [header?.[i] ?? '', v]))),
        file,
      ).toEqual(night2[file])
      expect(
        rows.every((r) => r[1] === '' && r[2] === ''),
        `${file}: bulk rows leave status and dateLastModified blank`,
      ).toBe(true)
    }
  })

  it('quotes lists and fields with quotes; keeps the formula name as plain text', async () => {
    const dir = await tempDir()
    await writeOneRosterBundle(dir, night2)
    const classes = await readFile(join(dir, 'classes.csv'), 'utf8')
    const yearLong = night2.classes.find((c) => list(c.termSourcedIds).length > 1)!
    expect(classes).toContain(`"${yearLong.termSourcedIds}"`)
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

  it('header order matches the spec column order for users (1.1, docs/oneroster.md#columns)', () => {
    const file: RosterFile = 'users'
    expect(ONEROSTER_11_COLUMNS[file]).toEqual([
      'sourcedId',
      'status',
      'dateLastModified',
      'enabledUser',
      'orgSourcedIds',
      'role',
      'username',
      'userIds',
      'givenName',
      'familyName',
      'middleName',
      'identifier',
      'email',
      'sms',
      'phone',
      'agentSourcedIds',
      'grades',
      'password',
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
