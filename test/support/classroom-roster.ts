/**
 * A large full sync for size tests: one school, a teacher, `classes` sections and
 * `students` students, each student enrolled in every section (classes × students
 * student enrollments, plus one teacher enrollment per section).
 */
import type { ChangeEvent, EntityType, SyncMode } from '../../src/events/change-event.js'
import { section, student, SyncScript, teacher, FULL } from './sis.js'

export interface ClassroomRosterOptions {
  readonly syncId: string
  /** occurredAt of every event. */
  readonly at: string
  readonly classes: number
  readonly students: number
  /** endDate of the student enrollments. Default 2025-01-15. */
  readonly endDate?: string
  readonly tenant?: string
  readonly modes?: Partial<Record<EntityType, SyncMode>>
}

/** Student enrollment ids are `e-<class>-<student>`, sections `k<n>`, students `stu<n>`. */
export function classroomRoster(o: ClassroomRosterOptions): ChangeEvent[] {
  const s = new SyncScript(o.tenant ?? 'district-a', o.syncId, 'sis-nightly', o.at, o.modes ?? FULL)
  s.upsert('org', 'd1', { name: 'Emerson Unified', type: 'district' })
    .upsert('org', 'sch1', { name: 'Fremont High', type: 'school', parentSourcedId: 'd1' })
    .upsert('academicSession', 't1', {
      title: 'Fall 2024',
      type: 'semester',
      startDate: '2024-08-15',
      endDate: '2025-01-15',
      schoolYear: '2025',
    })
    .upsert('course', 'c1', { title: 'English', courseCode: '0001', orgSourcedId: 'sch1' })
    .upsert('user', 'tch1', teacher('James', 'Staff', 'sch1'))
  for (let k = 0; k < o.classes; k++) {
    s.upsert('class', `k${k}`, section('c1', 'sch1', String(k))).upsert('enrollment', `e-tch-${k}`, {
      classSourcedId: `k${k}`,
      schoolSourcedId: 'sch1',
      userSourcedId: 'tch1',
      role: 'teacher',
      primary: 'true',
    })
  }
  for (let u = 0; u < o.students; u++) s.upsert('user', `stu${u}`, student(`S${u}`, 'Smith', 'sch1', `N${u}`))
  for (let k = 0; k < o.classes; k++) {
    for (let u = 0; u < o.students; u++) {
      s.upsert('enrollment', `e-${k}-${u}`, {
        classSourcedId: `k${k}`,
        schoolSourcedId: 'sch1',
        userSourcedId: `stu${u}`,
        role: 'student',
        beginDate: '2024-08-15',
        endDate: o.endDate ?? '2025-01-15',
      })
    }
  }
  return s.end()
}
