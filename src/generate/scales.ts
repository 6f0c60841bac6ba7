/**
 * The sizes the generator knows, from a development set to a large state.
 * Students per school is an average: elementary schools get fewer, high
 * schools more (see district.ts); enrollments follow from the schedules
 * (about 5 per elementary, 7 per middle and 8 per high-school student, plus
 * one teacher enrollment per section), about 7 per student overall.
 */

import type { Level } from './catalog.js'

export const SCALE_NAMES = ['tiny', 'small', 'medium', 'large'] as const
export type ScaleName = (typeof SCALE_NAMES)[number]

/**
 * A district drawn to order rather than from the seed, as the demo's is: its
 * place names, the level of each of its schools, and how many of its students
 * visit from the neighbour or carry a malformed email.
 */
export interface DistrictPlan {
  readonly place: string
  /** The neighbouring district visiting students come from. */
  readonly neighbourPlace: string
  /** One level per school, in order. */
  readonly levels: readonly Level[]
  /** Share of a high school's students who visit from the neighbouring district. */
  readonly visitorShare: number
  /** Share of students whose email is malformed in every export. */
  readonly persistentBadEmail: number
}

export interface Scale {
  readonly name: ScaleName | 'demo'
  readonly districts: number
  readonly schoolsPerDistrict: number
  /** Average students per school (before the elementary/middle/high weighting). */
  readonly studentsPerSchool: number
  /** Nightly exports: night 1 is the initial full load, the others carry one night of changes each. */
  readonly nights: number
  /** What it is for, for --help and the docs. */
  readonly note: string
  /** The one district of a scale drawn to order (the demo); without it districts come from the seed. */
  readonly plan?: DistrictPlan
}

export const SCALES: Readonly<Record<ScaleName, Scale>> = {
  tiny: {
    name: 'tiny',
    districts: 1,
    schoolsPerDistrict: 4,
    studentsPerSchool: 100,
    nights: 3,
    note: 'development: ~400 students, ~3k enrollments',
  },
  small: {
    name: 'small',
    districts: 2,
    schoolsPerDistrict: 8,
    studentsPerSchool: 450,
    nights: 3,
    note: '~7k students, ~50k enrollments; the whole bench in a few minutes on 2 cores',
  },
  medium: {
    name: 'medium',
    districts: 6,
    schoolsPerDistrict: 20,
    studentsPerSchool: 850,
    nights: 3,
    note: '~100k students, ~700k enrollments',
  },
  large: {
    name: 'large',
    districts: 40,
    schoolsPerDistrict: 25,
    studentsPerSchool: 1000,
    nights: 3,
    note: 'a large state: ~1M students, ~7M enrollments (not run by default)',
  },
}

export function isScaleName(s: string): s is ScaleName {
  return (SCALE_NAMES as readonly string[]).includes(s)
}

/**
 * Per-night change rates, as fractions of what exists (mid-year rates of a US
 * district's SIS; see docs/benchmarks.md). Applied per school with randomised
 * rounding, so small schools still change at the right average rate.
 */
export const NIGHTLY_RATES = {
  /** Student enrollments dropped (removed from the export / deleted). */
  drops: 0.004,
  /** Students moved to another section of a course they take (a drop and an add). */
  sectionMoves: 0.0025,
  /** Students adding a course they did not take. */
  adds: 0.0025,
  /** Student enrollments whose end date (2/3) or begin date (1/3) changes. */
  dateChanges: 0.003,
  /** New students (user + full schedule). */
  newStudents: 0.0015,
  /** Students who leave (user and enrollments removed). */
  withdrawals: 0.001,
  /** Users (students and staff) whose name changes. */
  renames: 0.0003,
  /** Sections whose room changes. */
  roomChanges: 0.008,
  /** Sections whose teacher changes (teacher enrollment replaced). */
  teacherChanges: 0.003,
  /** Courses retitled. */
  courseRetitles: 0.003,
  /** Of the records a night changes, this share also arrives broken (Invalid, Skipped, Merged, Excluded, unreadable). */
  invalidShare: 0.03,
  /** Students whose email is malformed in every export (Invalid on every full sync). */
  persistentBadEmail: 0.003,
} as const
