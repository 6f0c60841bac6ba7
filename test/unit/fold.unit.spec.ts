import { describe, expect, it } from 'vitest'
import { DELTA, FULL, Given, section, smallDistrict, student, sync, SyncScript, teacher } from '../support/sis.js'
import type { ChangeEvent } from '../../src/events/change-event.js'

describe('a first full sync', () => {
  it('counts every record as New and creates a roster for every student enrollment', () => {
    const given = new Given()
    const out = given.when(smallDistrict(sync(), { students: 3 }).end())
    expect(out.counts('user')).toMatchObject({ total: 4, new: 4 })
    expect(out.counts('enrollment')).toMatchObject({ total: 4, new: 4 })
    const created = out.rowsWith('Created Roster')
    expect(created.map((r) => r.studentNumber).sort()).toEqual(['S001', 'S002', 'S003'])
    expect(created[0]).toMatchObject({
      studentName: 'Smith, Student1',
      courseNumber: '0001',
      courseName: 'English',
      sectionNumber: '101',
      servingSchool: 'Fremont High',
      servingDistrict: 'Emerson Unified',
      homeSchool: 'Fremont High',
      outcome: 'New',
      entity: 'enrollment',
    })
    expect(out.rowsWith('Updated Section Data')).toEqual([])
    expect(out.status).toMatchObject({ status: 'Completed', syncId: expect.any(String) })
  })

  it('logs New rows for records that are not student enrollments', () => {
    const out = new Given().when(smallDistrict(sync()).end())
    expect(out.rowsWith('New').map((r) => `${r.entity}:${r.sourcedId}`)).toEqual(
      expect.arrayContaining(['org:sch1', 'user:tch1', 'class:k1', 'enrollment:e-tch1', 'user:stu1']),
    )
    expect(out.rowsWith('New').some((r) => r.sourcedId === 'e-stu1')).toBe(false)
  })
})

describe('guarantees', () => {
  it('re-importing an unchanged snapshot gives only No Change and no rows', () => {
    const given = new Given()
    given.when(smallDistrict(sync()).end())
    const out = given.when(smallDistrict(sync()).end())
    expect(out.rows).toEqual([])
    expect(out.counts('enrollment')).toMatchObject({ total: 3, noChange: 3 })
    expect(out.status?.status).toBe('Completed')
  })

  it('resolves a record sent unchanged against the roster at the end of its sync, after another sync changed it', () => {
    const given = new Given()
    given.when(smallDistrict(sync()).end())
    const unchanged = sync(DELTA).upsert('user', 'stu1', student('Student1', 'Smith', 'sch1', 'S001'))
    given.when(unchanged.events)
    // Another sync of the tenant, in the same hour, changes the record and completes first.
    const other = new SyncScript(unchanged.tenant, `${unchanged.syncId}-other`, unchanged.app, unchanged.at, DELTA)
    given.when(other.upsert('user', 'stu1', student('Ana', 'Smith', 'sch1', 'S001')).end())
    const out = given.when(unchanged.end().slice(-1))
    expect(out.counts('user')).toMatchObject({ total: 1, updated: 1 })
    expect(out.rowsWith('Updated')[0]).toMatchObject({ sourcedId: 'stu1', studentName: 'Smith, Student1' })
    expect(out.rowsWith('Updated')[0]!.newValue).toContain('givenName: Student1')
  })

  it('ignores a redelivered event', () => {
    const given = new Given()
    const events = smallDistrict(sync()).end()
    const first = given.when(events)
    const again = given.when(events)
    expect(first.rows.length).toBeGreaterThan(0)
    expect(again.events).toEqual([])
  })

  it('produces identical sync-log events when the same input is replayed from scratch', () => {
    const night1 = smallDistrict(sync()).end()
    const night2 = smallDistrict(sync())
      .upsert('user', 'tch1', teacher('Jordan', 'Staff', 'sch1'))
      .end()
    const a = new Given()
    const b = new Given()
    const outA = [a.when(night1).events, a.when(night2).events]
    const outB = [b.when(night1).events, b.when(night2).events]
    expect(JSON.stringify(outB)).toBe(JSON.stringify(outA))
  })

  it('gives the same result whatever order the records of a sync arrive in', () => {
    const script = smallDistrict(sync(FULL, 'ordered'))
    const [start, ...records] = script.events
    const reversed = [start!, ...records.reverse(), script.end().at(-1)!]
    const a = new Given().when(script.end())
    const b = new Given().when(reversed)
    const key = (o: typeof a) => o.rows.map((r) => `${r.action}|${r.sourcedId}|${r.outcome}`).sort()
    expect(key(b)).toEqual(key(a))
    expect(b.counts('enrollment')).toEqual(a.counts('enrollment'))
  })

  it('ends a sync that an earlier version left open in its state, with the messages that version stored', () => {
    const events = smallDistrict(sync())
      .upsert('user', 'stu9', { ...student('Ana', 'Lee', 'sch1', 'S009'), email: 'not-an-email' })
      .upsert('user', 'tch9', { ...teacher('Bo', 'Kay', 'sch1'), email: '' })
      .end()
    const expected = new Given().when(events).rows
    const given = new Given()
    given.when(events.slice(0, -1))
    // An earlier version kept each problem of an open sync as its finished message: `{ field, message }`.
    const open = [...given.state.tenants.get('district-a')!.pending.values()][0]!
    const stored = (sourcedId: string) =>
      expected.filter((r) => r.sourcedId === sourcedId).map((r) => ({ field: r.field, message: r.message }))
    const early = open.early as unknown as Record<string, unknown>[]
    for (const [i, e] of open.early.entries())
      early[i] = {
        outcome: e.outcome,
        entity: e.entity,
        sourcedId: e.sourcedId,
        occurredAt: e.occurredAt,
        fields: e.fields,
        ...stored(e.sourcedId)[0],
      }
    const invalid = open.candidates.user.get('stu9')!
    open.candidates.user.set('stu9', { ...invalid, invalid: stored('stu9') as never })

    const out = given.when(events.slice(-1))
    expect(out.rows).toEqual(expected)
    expect(out.rowsWith('Skipped')[0]).toMatchObject({
      sourcedId: 'tch9',
      message: 'Email is required for users with teacher or administrator roles',
    })
    expect(out.rowsWith('Invalid')[0]).toMatchObject({
      sourcedId: 'stu9',
      message: "email 'not-an-email' is not an email address; left empty",
    })
  })

  it('rejects records of a sync that never started', () => {
    const script = smallDistrict(sync())
    const out = new Given().when(script.events.slice(1))
    expect(out.rejections[0]).toMatch(/no SyncStarted/)
    expect(out.rows).toEqual([])
  })
})

describe('Skipped records', () => {
  it('skips a user with a required field missing, naming the field', () => {
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('user', 'stu9', { ...student('Ann', 'Lee', 'sch1', 'S9'), givenName: null })
        .end(),
    )
    expect(out.rowsWith('Skipped')).toEqual([
      expect.objectContaining({ entity: 'user', sourcedId: 'stu9', field: 'givenName', message: 'givenName is required' }),
    ])
    expect(out.counts('user')).toMatchObject({ skipped: 1, new: 3 })
  })

  it('skips a teacher without email with the Clever message', () => {
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('user', 'tch2', { ...teacher('Ann', 'Lee', 'sch1'), email: null })
        .end(),
    )
    expect(out.rowsWith('Skipped')[0]).toMatchObject({
      sourcedId: 'tch2',
      field: 'email',
      message: 'Email is required for users with teacher or administrator roles',
    })
  })

  it('skips an unknown enum value and an unparsable required date', () => {
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('user', 'x1', { ...student('A', 'B', 'sch1', '1'), role: 'Student' })
        .upsert('academicSession', 't9', { title: 'T', type: 'term', startDate: '2024-13-01', endDate: '2025-01-01', schoolYear: '2025' })
        .end(),
    )
    expect(
      out
        .rowsWith('Skipped')
        .map((r) => r.field)
        .sort(),
    ).toEqual(['role', 'startDate'])
  })

  it('skips an enrollment that points at an unknown user', () => {
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('enrollment', 'e-ghost', { classSourcedId: 'k1', schoolSourcedId: 'sch1', userSourcedId: 'ghost', role: 'student' })
        .end(),
    )
    expect(out.rowsWith('Skipped')).toEqual([
      expect.objectContaining({ sourcedId: 'e-ghost', field: 'userSourcedId', message: "unknown user 'ghost'" }),
    ])
    expect(out.rowsWith('Created Roster').some((r) => r.sourcedId === 'e-ghost')).toBe(false)
  })

  it('skips a school that is not onboarded together with all its records', () => {
    const given = new Given({
      holdThresholds: { deletePercent: 10, updatePercent: 75 },
      onboardedSchools: new Map([['district-a', ['sch1']]]),
    })
    const out = given.when(
      smallDistrict(sync())
        .upsert('org', 'sch2', { name: 'Garrison High', type: 'school', parentSourcedId: 'd1' })
        .upsert('course', 'c2', { title: 'Art', orgSourcedId: 'sch2' })
        .upsert('user', 'tch2', teacher('Ann', 'Lee', 'sch2'))
        .upsert('class', 'k2', section('c2', 'sch2', '201'))
        .upsert('enrollment', 'e-k2', {
          classSourcedId: 'k2',
          schoolSourcedId: 'sch2',
          userSourcedId: 'tch2',
          role: 'teacher',
          primary: 'true',
        })
        .end(),
    )
    const skipped = out.rowsWith('Skipped')
    expect(skipped.map((r) => r.sourcedId).sort()).toEqual(['c2', 'e-k2', 'k2', 'sch2', 'tch2'])
    expect(skipped.find((r) => r.sourcedId === 'sch2')?.message).toMatch(/not onboarded/)
    expect(skipped.find((r) => r.sourcedId === 'k2')?.message).toMatch(/school 'sch2' is not onboarded/)
  })

  it('skips a class that ends the sync with no primary teacher, and its rosters', () => {
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('class', 'k2', section('c1', 'sch1', '102'))
        .upsert('enrollment', 'e-k2', { classSourcedId: 'k2', schoolSourcedId: 'sch1', userSourcedId: 'stu1', role: 'student' })
        .end(),
    )
    const skipped = out.rowsWith('Skipped')
    expect(skipped.find((r) => r.sourcedId === 'k2')).toMatchObject({ field: 'teacher', message: 'primary teacher is required' })
    expect(skipped.find((r) => r.sourcedId === 'e-k2')?.message).toBe("class 'k2' was skipped in this sync")
  })

  it('skips every enrollment of a skipped class and of a deleted student, each naming why, and keeps the others', () => {
    const given = new Given()
    given.when(smallDistrict(sync(), { students: 3 }).end())
    const out = given.when(
      sync(DELTA)
        .delete('user', 'stu3')
        .upsert('class', 'k2', section('c1', 'sch1', '102'))
        .upsert('enrollment', 'e-k2-1', { classSourcedId: 'k2', schoolSourcedId: 'sch1', userSourcedId: 'stu1', role: 'student' })
        .upsert('enrollment', 'e-k1-3', {
          classSourcedId: 'k1',
          schoolSourcedId: 'sch1',
          userSourcedId: 'stu3',
          role: 'student',
          primary: 'false',
        })
        .upsert('enrollment', 'e-k2-2', { classSourcedId: 'k2', schoolSourcedId: 'sch1', userSourcedId: 'stu2', role: 'student' })
        .upsert('enrollment', 'e-k2-3', { classSourcedId: 'k2', schoolSourcedId: 'sch1', userSourcedId: 'stu3', role: 'student' })
        .upsert('enrollment', 'e-k1-3b', { classSourcedId: 'k1', schoolSourcedId: 'sch1', userSourcedId: 'stu3', role: 'aide' })
        .end(),
    )
    const why = Object.fromEntries(out.rowsWith('Skipped').map((r) => [r.sourcedId, r.message]))
    expect(why).toEqual({
      k2: 'primary teacher is required',
      'e-k2-1': "class 'k2' was skipped in this sync",
      'e-k2-2': "class 'k2' was skipped in this sync",
      // The class is checked before the user: its skip is the reason given.
      'e-k2-3': "class 'k2' was skipped in this sync",
      'e-k1-3': "user 'stu3' was deleted in this sync",
      'e-k1-3b': "user 'stu3' was deleted in this sync",
    })
  })

  it('skips a delete of a record that does not exist', () => {
    const given = new Given()
    given.when(smallDistrict(sync()).end())
    const out = given.when(sync(DELTA).delete('user', 'nobody').end())
    expect(out.rowsWith('Skipped')[0]).toMatchObject({
      sourcedId: 'nobody',
      field: 'sourcedId',
      message: expect.stringMatching(/no such record/),
    })
  })

  it('skips an update older than the stored dateLastModified', () => {
    const given = new Given()
    given.when(sync(DELTA).upsert('org', 'd1', { name: 'Emerson', type: 'district' }, { dateLastModified: '2024-10-02T00:00:00Z' }).end())
    const out = given.when(
      sync(DELTA).upsert('org', 'd1', { name: 'Old name', type: 'district' }, { dateLastModified: '2024-10-01T23:59:59.999Z' }).end(),
    )
    expect(out.rowsWith('Skipped')[0]).toMatchObject({ field: 'dateLastModified', message: expect.stringMatching(/^stale update/) })
    const later = given.when(sync(DELTA).upsert('org', 'd1', { name: 'Emerson', type: 'district' }).end())
    expect(later.counts('org')).toMatchObject({ noChange: 1 })
  })

  it('gives an unreadable row its Skipped outcome with file and line', () => {
    const out = new Given().when(smallDistrict(sync()).unreadable('user', '', 'row has 9 columns, header has 12').end())
    expect(out.rowsWith('Skipped')[0]?.message).toBe('row has 9 columns, header has 12 (users.csv:7)')
    expect(out.counts('user').skipped).toBe(1)
  })
})

describe('duplicates within a sync', () => {
  it('merges an identical duplicate and excludes a conflicting one, the first winning', () => {
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('user', 'stu1', student('Student1', 'Smith', 'sch1', 'S001'))
        .upsert('user', 'stu2', student('Changed', 'Name', 'sch1', 'S002'))
        .end(),
    )
    expect(out.rowsWith('Merged').map((r) => r.sourcedId)).toEqual(['stu1'])
    expect(out.rowsWith('Excluded').map((r) => r.sourcedId)).toEqual(['stu2'])
    expect(out.counts('user')).toMatchObject({ total: 5, new: 3, merged: 1, excluded: 1, duplicates: 2 })
    expect(out.rowsWith('Created Roster').find((r) => r.sourcedId === 'e-stu2')?.studentName).toBe('Smith, Student2')
  })

  it('treats two enrollments of the same user in the same class and role as duplicates', () => {
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('enrollment', 'e-copy', {
          classSourcedId: 'k1',
          schoolSourcedId: 'sch1',
          userSourcedId: 'stu1',
          role: 'student',
          beginDate: '2024-08-15',
          endDate: '2025-01-15',
        })
        .end(),
    )
    expect(out.rowsWith('Merged')).toEqual([
      expect.objectContaining({ sourcedId: 'e-copy', message: expect.stringMatching(/same class, user and role/) }),
    ])
  })

  it('tells a user enrolled twice in one role from the same user in another role of the class', () => {
    const enrol = (role: string) => ({ classSourcedId: 'k1', schoolSourcedId: 'sch1', userSourcedId: 'tch1', role })
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('enrollment', 'e-aide', enrol('aide'))
        .upsert('enrollment', 'e-aide-again', { ...enrol('aide'), primary: 'true' })
        .upsert('enrollment', 'e-admin', enrol('administrator'))
        .end(),
    )
    expect(out.rowsWith('Excluded')).toEqual([
      expect.objectContaining({ sourcedId: 'e-aide-again', message: expect.stringMatching(/'e-aide'/) }),
    ])
    expect(out.rowsWith('New').filter((r) => r.entity === 'enrollment' && r.sourcedId.startsWith('e-a'))).toHaveLength(2)
  })

  it('finds the duplicate among the enrollments of a teacher of forty classes, and not in another role or class', () => {
    const teach = (k: number, role = 'teacher') => ({ classSourcedId: `k${k}`, schoolSourcedId: 'sch1', userSourcedId: 'tch1', role })
    const night = smallDistrict(sync())
    for (let k = 2; k <= 40; k++)
      night.upsert('class', `k${k}`, section('c1', 'sch1', String(100 + k))).upsert('enrollment', `e-k${k}`, teach(k))
    const out = new Given().when(
      night
        .upsert('enrollment', 'e-k35-again', teach(35))
        .upsert('enrollment', 'e-k35-aide', teach(35, 'aide'))
        .upsert('enrollment', 'e-k2-again', { ...teach(2), primary: 'true' })
        .end(),
    )
    expect(out.rowsWith('Merged')).toEqual([
      expect.objectContaining({ sourcedId: 'e-k35-again', message: expect.stringMatching(/'e-k35'/) }),
    ])
    expect(out.rowsWith('Excluded')).toEqual([
      expect.objectContaining({ sourcedId: 'e-k2-again', message: expect.stringMatching(/'e-k2'/) }),
    ])
    expect(out.counts('enrollment')).toMatchObject({ new: 1 + 39 + 1 + 2, merged: 1, excluded: 1 })
  })
})

describe('Invalid records', () => {
  it('applies a student with a malformed email, leaves the email empty and counts it Invalid', () => {
    const given = new Given()
    const out = given.when(
      smallDistrict(sync())
        .upsert('user', 'stu9', { ...student('Ann', 'Lee', 'sch1', 'S9'), email: 'jdoe@' })
        .end(),
    )
    expect(out.rowsWith('Invalid')).toEqual([
      expect.objectContaining({ sourcedId: 'stu9', field: 'email', message: expect.stringMatching(/not an email/) }),
    ])
    expect(out.counts('user')).toMatchObject({ invalid: 1, new: 3 })
    expect(given.state.tenants.get('district-a')?.tables.user.get('stu9')?.email).toBeNull()
  })

  it('creates the roster of an enrollment whose end date is before its begin date, flagged Invalid', () => {
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('user', 'stu9', student('Ann', 'Lee', 'sch1', 'S9'))
        .upsert('enrollment', 'e-stu9', {
          classSourcedId: 'k1',
          schoolSourcedId: 'sch1',
          userSourcedId: 'stu9',
          role: 'student',
          beginDate: '2024-09-01',
          endDate: '2024-08-01',
        })
        .end(),
    )
    expect(out.rowsWith('Invalid')).toEqual([expect.objectContaining({ sourcedId: 'e-stu9', field: 'endDate' })])
    expect(out.rowsWith('Created Roster').find((r) => r.sourcedId === 'e-stu9')).toMatchObject({
      outcome: 'Invalid',
      studentName: 'Lee, Ann',
    })
  })

  it('flags a grade outside the vocabulary', () => {
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('user', 'stu9', { ...student('A', 'B', 'sch1', '9'), grades: ['9th'] })
        .end(),
    )
    expect(out.rowsWith('Invalid')[0]).toMatchObject({ field: 'grades' })
  })
})

describe('roster actions', () => {
  it('logs start and end date changes with old and new value', () => {
    const given = new Given()
    given.when(smallDistrict(sync()).end())
    const out = given.when(
      sync(DELTA)
        .upsert('enrollment', 'e-stu1', {
          classSourcedId: 'k1',
          schoolSourcedId: 'sch1',
          userSourcedId: 'stu1',
          role: 'student',
          beginDate: '2024-09-01',
          endDate: '2024-12-20',
        })
        .end(),
    )
    expect(out.rowsWith('Updated Roster Start Date')).toEqual([
      expect.objectContaining({ oldValue: '2024-08-15', newValue: '2024-09-01', studentNumber: 'S001' }),
    ])
    expect(out.rowsWith('Updated Roster End Date')).toEqual([expect.objectContaining({ oldValue: '2025-01-15', newValue: '2024-12-20' })])
    expect(out.counts('enrollment')).toMatchObject({ updated: 1 })
  })

  it('deletes the rosters of a deleted student, saying why', () => {
    const given = new Given()
    given.when(smallDistrict(sync()).end())
    const out = given.when(sync(DELTA).delete('user', 'stu2').end())
    expect(out.rowsWith('Deleted Roster')).toEqual([
      expect.objectContaining({ sourcedId: 'e-stu2', studentNumber: 'S002', outcome: '', message: "student 'stu2' deleted by the source" }),
    ])
    expect(out.rowsWith('Deleted')).toEqual([expect.objectContaining({ entity: 'user', sourcedId: 'stu2' })])
  })

  it('deletes a roster absent from a full enrollments file and keeps it in a delta sync', () => {
    const given = new Given()
    given.when(smallDistrict(sync(), { students: 20 }).end())
    const script = sync(DELTA)
    const delta = given.when(script.end())
    expect(delta.rows).toEqual([])
    const full = smallDistrict(sync(), { students: 20 })
    full.events.splice(
      full.events.findIndex((e) => 'sourcedId' in e && e.sourcedId === 'e-stu3'),
      1,
    )
    const out = given.when(full.end())
    expect(out.rowsWith('Deleted Roster')).toEqual([
      expect.objectContaining({ sourcedId: 'e-stu3', outcome: 'Deleted', message: 'absent from the full enrollment file' }),
    ])
    expect(out.counts('enrollment')).toMatchObject({ deleted: 1, noChange: 20 })
  })
})

describe('section actions', () => {
  it('updates the teacher display name of every section a renamed teacher primarily teaches', () => {
    const given = new Given()
    given.when(
      smallDistrict(sync())
        .upsert('class', 'k2', section('c1', 'sch1', '102'))
        .upsert('enrollment', 'e-tch1-k2', {
          classSourcedId: 'k2',
          schoolSourcedId: 'sch1',
          userSourcedId: 'tch1',
          role: 'teacher',
          primary: 'true',
        })
        .end(),
    )
    const out = given.when(
      sync(DELTA)
        .upsert('user', 'tch1', teacher('Jordan', 'Staff', 'sch1'))
        .end(),
    )
    const rows = out.rowsWith('Updated Section Data')
    expect(rows.map((r) => r.sectionNumber).sort()).toEqual(['101', '102'])
    expect(rows[0]).toMatchObject({
      field: 'Teacher Display Name',
      oldValue: 'Teacher Display Name: Staff, James',
      newValue: 'Teacher Display Name: Staff, Jordan',
      courseNumber: '0001',
      courseName: 'English',
      servingSchool: 'Fremont High',
      studentName: '',
    })
    expect(out.rowsWith('Updated')).toEqual([
      expect.objectContaining({ entity: 'user', sourcedId: 'tch1', field: expect.stringContaining('givenName') }),
    ])
  })

  it('logs one row per changed section field and none for unchanged ones', () => {
    const given = new Given()
    given.when(smallDistrict(sync()).end())
    const out = given.when(
      sync(DELTA)
        .upsert('class', 'k1', section('c1', 'sch1', '101', { location: 'Room 40' }))
        .end(),
    )
    expect(out.rowsWith('Updated Section Data')).toEqual([
      expect.objectContaining({ field: 'Room', oldValue: 'Room: Room 12', newValue: 'Room: Room 40', outcome: 'Updated' }),
    ])
  })

  it('updates the course name on the sections of a renamed course', () => {
    const given = new Given()
    given.when(smallDistrict(sync()).end())
    const out = given.when(sync(DELTA).upsert('course', 'c1', { title: 'English I', courseCode: '0001', orgSourcedId: 'sch1' }).end())
    expect(out.rowsWith('Updated Section Data')).toEqual([
      expect.objectContaining({ field: 'Course Name', newValue: 'Course Name: English I', outcome: '' }),
    ])
  })

  it('changes the teacher display name when the primary teacher enrollment moves to another teacher', () => {
    const given = new Given()
    given.when(
      smallDistrict(sync())
        .upsert('user', 'tch2', teacher('Ann', 'Lee', 'sch1'))
        .end(),
    )
    const out = given.when(
      sync(DELTA)
        .delete('enrollment', 'e-tch1')
        .upsert('enrollment', 'e-tch2', {
          classSourcedId: 'k1',
          schoolSourcedId: 'sch1',
          userSourcedId: 'tch2',
          role: 'teacher',
          primary: 'true',
        })
        .end(),
    )
    expect(out.rowsWith('Updated Section Data')).toEqual([expect.objectContaining({ newValue: 'Teacher Display Name: Lee, Ann' })])
  })

  it('invalidates a deleted section with active rosters and deletes its student rosters', () => {
    const given = new Given()
    given.when(smallDistrict(sync()).end())
    const out = given.when(sync(DELTA).delete('class', 'k1').end())
    expect(out.rowsWith('Invalidated Section')).toEqual([
      expect.objectContaining({ sectionNumber: '101', courseName: 'English', servingSchool: 'Fremont High' }),
    ])
    expect(out.rowsWith('Deleted Roster').map((r) => r.message)).toEqual(['section deleted by the source', 'section deleted by the source'])
  })

  it('invalidates the sections of a deleted course', () => {
    const given = new Given()
    given.when(smallDistrict(sync()).end())
    const out = given.when(sync(DELTA).delete('course', 'c1').end())
    expect(out.rowsWith('Invalidated Section')[0]?.message).toBe("course 'c1' deleted by the source")
    expect(out.rowsWith('Deleted Roster')[0]?.message).toBe("section invalidated: course 'c1' deleted by the source")
  })

  it('does not invalidate a section whose rosters have all ended', () => {
    const given = new Given()
    const s = smallDistrict(sync(), { students: 0 })
    s.upsert('user', 'stu1', student('A', 'B', 'sch1', '1')).upsert('enrollment', 'e-old', {
      classSourcedId: 'k1',
      schoolSourcedId: 'sch1',
      userSourcedId: 'stu1',
      role: 'student',
      beginDate: '2024-01-01',
      endDate: '2024-06-01',
    })
    given.when(s.end())
    const out = given.when(sync(DELTA).delete('class', 'k1').end())
    expect(out.rowsWith('Invalidated Section')).toEqual([])
    expect(out.rowsWith('Deleted Roster')).toHaveLength(1)
  })
})

describe('home and serving sides', () => {
  it('carries the home district and school of a cross-site student and the serving ones of the section', () => {
    const out = new Given().when(
      smallDistrict(sync())
        .upsert('org', 'd2', { name: 'Garrison Valley', type: 'district' })
        .upsert('org', 'sch9', { name: 'Garrison High', type: 'school', parentSourcedId: 'd2' })
        .upsert('user', 'x1', student('Cross', 'Site', 'sch9', 'X1'))
        .upsert('enrollment', 'e-x1', { classSourcedId: 'k1', schoolSourcedId: 'sch1', userSourcedId: 'x1', role: 'student' })
        .end(),
    )
    expect(out.rowsWith('Created Roster').find((r) => r.sourcedId === 'e-x1')).toMatchObject({
      homeDistrictId: 'd2',
      homeDistrict: 'Garrison Valley',
      homeSchoolId: 'sch9',
      homeSchool: 'Garrison High',
      servingDistrictId: 'd1',
      servingDistrict: 'Emerson Unified',
      servingSchoolId: 'sch1',
      servingSchool: 'Fremont High',
    })
  })
})

describe('sync status and summary counts', () => {
  it('is Completed with Errors when any record is skipped, invalid or excluded', () => {
    const out = new Given().when(smallDistrict(sync()).upsert('user', 'bad', { role: 'student' }).end())
    expect(out.status?.status).toBe('Completed with Errors')
  })

  it('keeps Total equal to the sum of outcomes and Duplicates to Merged plus Excluded, per school', () => {
    const given = new Given()
    given.when(smallDistrict(sync(), { students: 5 }).end())
    const out = given.when(
      smallDistrict(sync(), { students: 4 })
        .upsert('user', 'stu1', student('Other', 'Name', 'sch1', 'S001'))
        .upsert('user', 'stu9', { ...student('Ann', 'Lee', 'sch1', 'S9'), email: 'x@' })
        .upsert('user', 'bad', { role: 'student', orgSourcedIds: ['sch1'] })
        .end(),
    )
    const counts = out.events.filter((e) => e.kind === 'SyncCounts')
    expect(counts.length).toBeGreaterThan(0)
    for (const c of counts) {
      if (c.kind !== 'SyncCounts') continue
      const k = c.counts
      expect(k.total).toBe(k.new + k.updated + k.noChange + k.deleted + k.skipped + k.invalid + k.merged + k.excluded)
      expect(k.duplicates).toBe(k.merged + k.excluded)
    }
    expect(out.counts('user')).toMatchObject({ deleted: 1, excluded: 1, invalid: 1, skipped: 1 })
  })

  it('fails a sync the source could not complete and applies nothing of it', () => {
    const given = new Given()
    const s = smallDistrict(sync())
    const out = given.when([
      ...s.events,
      {
        type: 'SyncFailed',
        eventId: 'f',
        tenant: s.tenant,
        syncId: s.syncId,
        app: s.app,
        occurredAt: s.at,
        reason: 'manifest.csv is missing',
      },
    ])
    expect(out.status).toMatchObject({ status: 'Failed', message: 'manifest.csv is missing' })
    expect(given.state.tenants.get('district-a')?.tables.user.size).toBe(0)
  })
})

describe('safety thresholds', () => {
  function heldNight(given: Given) {
    given.when(smallDistrict(sync(), { students: 10 }).end())
    return given.when(smallDistrict(sync(FULL, 'big-drop'), { students: 8 }).end())
  }

  it('holds a full sync that would delete more than 10% of a type, applying nothing', () => {
    const given = new Given()
    const out = heldNight(given)
    expect(out.status).toMatchObject({
      status: 'On Hold',
      message: expect.stringMatching(/would delete 2 of 11 user records \(18\.2% > 10%\)/),
    })
    expect(out.rowsWith('Deleted Roster')).toHaveLength(2)
    expect(given.state.tenants.get('district-a')?.tables.user.has('stu10')).toBe(true)
  })

  it('applies a held sync when approved', () => {
    const given = new Given()
    heldNight(given)
    const s = sync(FULL)
    const approved = given.when([
      { type: 'SyncApproved', eventId: 'a1', tenant: s.tenant, syncId: 'big-drop', app: 'cli', occurredAt: s.at, by: 'registrar' },
    ])
    expect(approved.status).toMatchObject({ status: 'Completed', message: 'approved by registrar' })
    expect(given.state.tenants.get('district-a')?.tables.user.has('stu10')).toBe(false)
    expect(given.when(smallDistrict(sync(), { students: 8 }).end()).rows).toEqual([])
  })

  it('discards a held sync when rejected, leaving the state as before', () => {
    const given = new Given()
    heldNight(given)
    const s = sync(FULL)
    const out = given.when([
      { type: 'SyncRejected', eventId: 'r1', tenant: s.tenant, syncId: 'big-drop', app: 'cli', occurredAt: s.at, by: 'registrar' },
    ])
    expect(out.status?.status).toBe('Rejected')
    expect(given.when(smallDistrict(sync(), { students: 10 }).end()).rows).toEqual([])
  })

  it('ignores a second decision on a sync already decided, and refuses one on a sync never held', () => {
    const given = new Given()
    heldNight(given)
    const s = sync(FULL)
    const decide = (type: 'SyncApproved' | 'SyncRejected', syncId: string, eventId: string) =>
      given.when([{ type, eventId, tenant: s.tenant, syncId, app: 'cli', occurredAt: s.at, by: 'registrar' }])
    expect(decide('SyncApproved', 'big-drop', 'a1').status?.status).toBe('Completed')
    const again = decide('SyncRejected', 'big-drop', 'r2')
    expect(again.events).toEqual([])
    expect(again.rejections).toEqual([])
    const first = given.state.tenants.get('district-a')!.syncs.keys().next().value!
    expect(decide('SyncApproved', first, 'a3').rejections).toEqual([`sync ${first} is Completed, not On Hold or Preview`])
  })

  it('fails a new sync of the tenant while another is On Hold', () => {
    const given = new Given()
    heldNight(given)
    const out = given.when(smallDistrict(sync(), { students: 10 }).end())
    expect(out.status).toMatchObject({ status: 'Failed', message: 'sync big-drop of this tenant is On Hold: approve or reject it first' })
  })

  it('does not hold a first sync or a sync under the thresholds', () => {
    const given = new Given()
    given.when(smallDistrict(sync(), { students: 20 }).end())
    expect(given.when(smallDistrict(sync(), { students: 19 }).end()).status?.status).toBe('Completed')
  })
})

describe('reviewing a sync', () => {
  const previewOf = (events: readonly ChangeEvent[]): ChangeEvent[] =>
    events.map((e) => (e.type === 'SyncStarted' ? { ...e, preview: true } : e))
  const decision = (type: 'SyncApproved' | 'SyncRejected', syncId: string, eventId: string, at: string): ChangeEvent => ({
    type,
    eventId,
    tenant: 'district-a',
    syncId,
    app: 'cli',
    occurredAt: at,
    by: 'registrar',
    reason: 'checked with the front office',
  })
  const users = (given: Given) => [...given.state.tenants.get('district-a')!.tables.user.keys()].sort()

  it('gives a held sync no end time until it is decided, then records who decided, when and why', () => {
    const given = new Given()
    given.when(smallDistrict(sync(), { students: 10 }).end())
    const held = given.when(smallDistrict(sync(FULL, 'big-drop'), { students: 8 }).end())
    expect(held.status).toMatchObject({ status: 'On Hold', endedAt: '', reviewedBy: '', reviewedAt: '', reviewReason: '' })
    const at = '2024-11-02T15:30:00.000Z'
    const approved = given.when([decision('SyncApproved', 'big-drop', 'a1', at)])
    expect(approved.status).toMatchObject({
      status: 'Completed',
      endedAt: at,
      reviewedBy: 'registrar',
      reviewedAt: at,
      reviewReason: 'checked with the front office',
    })
  })

  it('computes a preview without applying it: counts and rows as the sync would give, the roster unchanged', () => {
    const applied = new Given()
    applied.when(smallDistrict(sync(), { students: 10 }).end())
    const given = new Given()
    given.when(smallDistrict(sync(), { students: 10 }).end())
    const before = users(given)
    const night = smallDistrict(sync(DELTA, 'pv'), { students: 12 }).end()
    const preview = given.when(previewOf(night))
    expect(preview.status).toMatchObject({ status: 'Preview', endedAt: '' })
    expect(users(given)).toEqual(before)
    // The same night applied for real gives the same rows and counts.
    const real = applied.when(night)
    const strip = (o: typeof real) => o.events.filter((e) => e.kind !== 'SyncStatusChanged')
    expect(strip(preview)).toEqual(strip(real))
  })

  it('applies a preview when approved, and discards one when rejected', () => {
    const given = new Given()
    given.when(smallDistrict(sync(), { students: 10 }).end())
    const before = users(given)
    given.when(previewOf(smallDistrict(sync(DELTA, 'pv-1'), { students: 12 }).end()))
    const discarded = given.when([decision('SyncRejected', 'pv-1', 'r1', '2024-11-03T09:00:00.000Z')])
    expect(discarded.status).toMatchObject({ status: 'Rejected', message: 'preview discarded by registrar' })
    expect(users(given)).toEqual(before)
    given.when(previewOf(smallDistrict(sync(DELTA, 'pv-2'), { students: 12 }).end()))
    const kept = given.when([decision('SyncApproved', 'pv-2', 'a2', '2024-11-03T09:05:00.000Z')])
    expect(kept.status).toMatchObject({ status: 'Completed', message: 'preview applied by registrar' })
    expect(users(given).length).toBe(before.length + 2)
  })

  it('does not let a preview block the next sync, and refuses to apply a preview another sync has overtaken', () => {
    const given = new Given()
    given.when(smallDistrict(sync(), { students: 10 }).end())
    given.when(previewOf(smallDistrict(sync(DELTA, 'pv-old'), { students: 12 }).end()))
    expect(given.when(smallDistrict(sync(), { students: 11 }).end()).status?.status).toBe('Completed')
    const late = given.when([decision('SyncApproved', 'pv-old', 'a1', '2024-11-04T09:00:00.000Z')])
    expect(late.events).toEqual([])
    expect(late.rejections).toEqual([expect.stringMatching(/the preview is out of date: 1 sync was applied to tenant district-a since/)])
    expect(given.state.tenants.get('district-a')!.syncs.get('pv-old')?.status).toBe('Preview')
    expect(given.when([decision('SyncRejected', 'pv-old', 'r1', '2024-11-04T09:01:00.000Z')]).status?.status).toBe('Rejected')
  })
})
