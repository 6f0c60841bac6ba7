import { describe, expect, it } from 'vitest'
import type { LogRow } from '../../src/events/sync-log-event.js'
import { DELTA, Given, section, smallDistrict, student, sync } from '../support/sis.js'

/** No safety hold gets in the way of a small hand-built sync. */
const NO_HOLDS = { holdThresholds: { deletePercent: 100, updatePercent: 100 } }

const line = (r: LogRow): string => `${r.action} ${r.entity} ${r.sourcedId} <- ${r.cause}`

describe('root causes in the fold', () => {
  it('names a deleted class as the cause of its roster deletions and of enrollments that refer to it', () => {
    const given = new Given(NO_HOLDS)
    given.when(smallDistrict(sync(), { students: 3 }).end())
    const out = given.when(
      sync(DELTA)
        .delete('class', 'k1')
        .upsert('user', 'stu9', student('Nine', 'Late', 'sch1', 'S009'))
        .upsert('enrollment', 'e-stu9', { classSourcedId: 'k1', schoolSourcedId: 'sch1', userSourcedId: 'stu9', role: 'student' })
        .end(),
    )
    const deleted = out.rowsWith('Deleted Roster')
    expect(deleted.map((r) => r.sourcedId).sort()).toEqual(['e-stu1', 'e-stu2', 'e-stu3'])
    expect(new Set(deleted.map((r) => r.cause))).toEqual(new Set(["class 'k1' deleted"]))
    expect(out.rowsWith('Skipped').map(line)).toEqual(["Skipped enrollment e-stu9 <- class 'k1' deleted"])
    // The class's own rows stand on their own.
    expect(
      out.rows
        .filter((r) => r.entity === 'class')
        .map(line)
        .sort(),
    ).toEqual(['Deleted class k1 <- ', 'Invalidated Section class k1 <- '])
  })

  it('names a school that is not onboarded as the cause of every record under it, but not of its own row', () => {
    const given = new Given({ ...NO_HOLDS, onboardedSchools: new Map([['district-a', ['sch1']]]) })
    const out = given.when(
      smallDistrict(sync())
        .upsert('org', 'sch2', { name: 'Garrison High', type: 'school', parentSourcedId: 'd1' })
        .upsert('course', 'c2', { title: 'Art', orgSourcedId: 'sch2' })
        .upsert('user', 'stu7', student('Seven', 'Lee', 'sch2', 'S007'))
        .upsert('class', 'k2', section('c2', 'sch2', '201'))
        .upsert('enrollment', 'e-k2', { classSourcedId: 'k2', schoolSourcedId: 'sch2', userSourcedId: 'stu7', role: 'student' })
        .end(),
    )
    const causes = new Map(out.rowsWith('Skipped').map((r) => [r.sourcedId, r.cause]))
    expect(causes).toEqual(
      new Map([
        ['sch2', ''],
        ['c2', "school 'sch2' not onboarded"],
        ['stu7', "school 'sch2' not onboarded"],
        ['k2', "school 'sch2' not onboarded"],
        ['e-k2', "school 'sch2' not onboarded"],
      ]),
    )
  })

  it('names a skipped org as the cause of its users, and of their enrollments through them', () => {
    const out = new Given(NO_HOLDS).when(
      smallDistrict(sync())
        // No name: the org is Skipped as it arrives.
        .upsert('org', 'annex', { name: '', type: 'school', parentSourcedId: 'd1' })
        .upsert('user', 'stu8', student('Eight', 'Ray', 'annex', 'S008'))
        .upsert('enrollment', 'e-stu8', { classSourcedId: 'k1', schoolSourcedId: 'sch1', userSourcedId: 'stu8', role: 'student' })
        .end(),
    )
    expect(out.rowsWith('Skipped').map(line).sort()).toEqual([
      'Skipped enrollment e-stu8 <- ' + "org 'annex' skipped",
      'Skipped org annex <- ',
      "Skipped user stu8 <- org 'annex' skipped",
    ])
  })

  it('follows a chain to its root: the rosters of a section removed with its deleted course name the course', () => {
    const given = new Given(NO_HOLDS)
    given.when(smallDistrict(sync(), { students: 2 }).end())
    const out = given.when(
      sync(DELTA)
        .delete('course', 'c1')
        .upsert('enrollment', 'e-late', { classSourcedId: 'k1', schoolSourcedId: 'sch1', userSourcedId: 'stu1', role: 'teacher' })
        .end(),
    )
    expect(out.rowsWith('Deleted Roster').map(line).sort()).toEqual([
      "Deleted Roster enrollment e-stu1 <- course 'c1' deleted",
      "Deleted Roster enrollment e-stu2 <- course 'c1' deleted",
    ])
    expect(out.rowsWith('Invalidated Section').map(line)).toEqual(["Invalidated Section class k1 <- course 'c1' deleted"])
    expect(out.rowsWith('Skipped').map(line)).toEqual(["Skipped enrollment e-late <- course 'c1' deleted"])
    expect(out.rowsWith('Deleted').map(line)).toEqual(['Deleted course c1 <- '])
  })

  it('calls an org that is a school a school: the sections and rosters of a deleted school name it', () => {
    const given = new Given(NO_HOLDS)
    given.when(smallDistrict(sync(), { students: 1 }).end())
    const out = given.when(sync(DELTA).delete('org', 'sch1').end())
    expect(out.rowsWith('Invalidated Section').map(line)).toEqual(["Invalidated Section class k1 <- school 'sch1' deleted"])
    expect(out.rowsWith('Deleted Roster').map(line)).toEqual(["Deleted Roster enrollment e-stu1 <- school 'sch1' deleted"])
  })

  it('leaves the cause blank on a row about the record’s own field', () => {
    const out = new Given(NO_HOLDS).when(
      smallDistrict(sync())
        .upsert('user', 'stu5', { ...student('Five', 'Poe', 'sch1', 'S005'), email: 'not-an-email' })
        .end(),
    )
    expect(out.rowsWith('Invalid').map(line)).toEqual(['Invalid user stu5 <- '])
  })

  it('counts records as before: a caused error is still one Skipped record', () => {
    const given = new Given(NO_HOLDS)
    given.when(smallDistrict(sync(), { students: 2 }).end())
    const out = given.when(
      sync(DELTA)
        .delete('class', 'k1')
        .upsert('enrollment', 'e-x', { classSourcedId: 'k1', schoolSourcedId: 'sch1', userSourcedId: 'stu1', role: 'student' })
        .end(),
    )
    expect(out.counts('enrollment')).toMatchObject({ total: 1, skipped: 1, deleted: 0 })
    expect(out.counts('class')).toMatchObject({ total: 1, deleted: 1 })
  })
})
