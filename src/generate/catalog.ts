/**
 * The fixed vocabulary of generated districts: names, the school calendar and
 * the course catalogue of each school level.
 */

export const GIVEN_NAMES = [
  'Ava', 'Liam', 'Sofia', 'Noah', 'Maya', 'Ethan', 'Isabella', 'Lucas', 'Chloe', 'Mateo', 'Amara', 'Elijah', 'Zoe', 'Diego', 'Hannah',
  'Caleb', 'Priya', 'Owen', 'Leah', 'Jamal', 'Grace', 'Julian', 'Aaliyah', 'Ryan', 'Mia', 'Isaac', 'Nora', 'Kai', 'Layla', 'Gabriel',
  'Emma', 'Samuel', 'Fatima', 'Aiden', 'Lucía', 'Marcus', 'Harper', 'Daniel', 'Yuna', 'André', 'Ellie', 'Tomás', 'Nia', 'Wyatt',
  'Olivia', 'James', 'Amelia', 'Benjamin', 'Charlotte', 'Henry', 'Evelyn', 'Alexander', 'Abigail', 'Sebastian', 'Emily', 'Jack',
  'Elizabeth', 'Levi', 'Sofía', 'Michael', 'Avery', 'Mason', 'Ella', 'Logan', 'Scarlett', 'Jackson', 'Victoria', 'Luke', 'Madison',
  'Jayden', 'Luna', 'Dylan', 'Penelope', 'Carter', 'Riley', 'Jaxon', 'Zoey', 'Grayson', 'Lily', 'Leo', 'Hazel', 'Lincoln', 'Aurora',
  'Asher', 'Violet', 'Anthony', 'Savannah', 'Hudson', 'Audrey', 'Thomas', 'Brooklyn', 'Charles', 'Bella', 'Josiah', 'Claire',
  'Christopher', 'Skylar', 'Ezra', 'Lucy', 'Andrew', 'Paisley', 'Miles', 'Everly', 'Nolan', 'Anna', 'Hunter', 'Caroline', 'Eli',
  'Nova', 'Aaron', 'Genesis', 'Jeremiah', 'Emilia', 'Adrian', 'Kennedy', 'Jonathan', 'Samantha', 'Isaiah', 'Maya', 'Cameron',
  'Willow', 'Jordan', 'Kinsley', 'Xavier', 'Naomi', 'Roman', 'Aaliyah', 'Axel', 'Elena', 'Ángel', 'Sarah', 'Jesús', 'Ariana',
  'Mohammed', 'Allison', 'Yusuf', 'Gabriella', 'Arjun', 'Alice', 'Wei', 'Madelyn', 'Hiroshi', 'Cora', 'Dmitri', 'Ruby', 'Kwame',
  'Eva', 'Oluwaseun', 'Serenity', 'Santiago', 'Autumn', 'Mei', 'Adeline', 'Chidi', 'Hailey', 'Zainab', 'Gianna', 'Ivan', 'Valentina',
] as const

export const FAMILY_NAMES = [
  'Nguyen', 'Patel', 'García', 'Johnson', 'Kim', 'Okafor', 'Smith', 'Hernández', 'Chen', 'Williams', "O'Brien", 'Rossi', 'Brown',
  'Martinez', 'Singh', 'Davis', 'Lopez', 'Wilson', 'Anderson', 'Tanaka', 'Thomas', 'Moore', 'Jackson', 'Ali', 'Lee', 'Walker',
  'Robinson', 'Clark', 'Rivera', 'Lewis', 'Young', 'Hall', 'Cohen', 'Murphy', 'Ramirez', 'Schmidt', 'Ivanova', 'Baker', 'Flores',
  'Jones', 'Miller', 'Rodriguez', 'Gonzalez', 'Taylor', 'Thompson', 'White', 'Harris', 'Sanchez', 'Martin', 'Perez', 'Wright',
  'Scott', 'Torres', 'Hill', 'Green', 'Adams', 'Nelson', 'Campbell', 'Mitchell', 'Roberts', 'Carter', 'Phillips', 'Evans', 'Turner',
  'Parker', 'Collins', 'Edwards', 'Stewart', 'Morris', 'Murray', 'Cook', 'Rogers', 'Gutierrez', 'Ortiz', 'Morgan', 'Cooper',
  'Peterson', 'Bailey', 'Reed', 'Kelly', 'Howard', 'Ramos', 'Cox', 'Ward', 'Richardson', 'Watson', 'Brooks', 'Chavez', 'Wood',
  'James', 'Bennett', 'Gray', 'Mendoza', 'Ruiz', 'Hughes', 'Price', 'Alvarez', 'Castillo', 'Sanders', 'Myers', 'Long', 'Ross',
  'Foster', 'Jiménez', 'Powell', 'Jenkins', 'Perry', 'Russell', 'Sullivan', 'Bell', 'Coleman', 'Butler', 'Henderson', 'Barnes',
  'Fisher', 'Vasquez', 'Simmons', 'Romero', 'Jordan', 'Patterson', 'Alexander', 'Hamilton', 'Graham', 'Reynolds', 'Griffin',
  'Wallace', 'Moreno', 'West', 'Cole', 'Hayes', 'Bryant', 'Herrera', 'Gibson', 'Ellis', 'Tran', 'Medina', 'Aguilar', 'Stevens',
  'Murray', 'Ford', 'Castro', 'Marshall', 'Owens', 'Harrison', 'Fernández', 'McDonald', 'Woods', 'Washington', 'Kennedy', 'Wells',
  'Vargas', 'Henry', 'Chen', 'Freeman', 'Webb', 'Tucker', 'Guzman', 'Burns', 'Crawford', 'Olson', 'Simpson', 'Porter', 'Hunter',
  'Gordon', 'Mendez', 'Silva', 'Shaw', 'Snyder', 'Mason', 'Dixon', 'Muñoz', 'Hunt', 'Hicks', 'Holmes', 'Palmer', 'Wagner', 'Black',
  'Robertson', 'Boyd', 'Rose', 'Stone', 'Salazar', 'Fox', 'Warren', 'Mills', 'Meyer', 'Rice', 'Schneider', 'Yamamoto', 'Kowalski',
  "D'Angelo", 'Van der Berg', 'Nakamura', 'Abdullah', 'Adeyemi', 'Mensah', 'Haddad', 'Novak', 'Popescu', 'Larsen', 'Le', 'Pham',
] as const

export const PLACE_NAMES = [
  'Emerson', 'Garrison Valley', 'Maple Ridge', 'Cedar Falls', 'Lincoln Park', 'Riverside', 'Oak Hollow', 'Pine Bluff', 'Fairview',
  'Lakeshore', 'Brookfield', 'Silver Creek', 'Highland', 'Westbrook', 'Clearwater', 'Stony Point', 'Willow Glen', 'Harbor City',
  'Granite Hills', 'Sunnyvale', 'Mill Creek', 'Aspen Grove', 'Red Rock', 'Bayview', 'Elmwood', 'Kingsport', 'Northgate', 'Prairie View',
  'Summit', 'Cypress Point', 'Meadowbrook', 'Ironwood', 'Canyon Lake', 'Foxborough', 'Hawthorne', 'Juniper Springs', 'Laurel Heights',
  'Marble Falls', 'Newport', 'Orchard Park', 'Quail Run', 'Rosewood', 'Sagebrush', 'Timberline', 'Union City', 'Valley Forge',
] as const

export const SCHOOL_NAME_STEMS = [
  'Washington', 'Jefferson', 'Roosevelt', 'Kennedy', 'Franklin', 'Madison', 'Hamilton', 'Adams', 'Monroe', 'Jackson', 'Hoover',
  'Parks', 'Chavez', 'King', 'Curie', 'Earhart', 'Douglass', 'Tubman', 'Sequoia', 'Redwood', 'Aspen', 'Magnolia', 'Sycamore',
  'Hillcrest', 'Lakeside', 'Westview', 'Eastgate', 'Northridge', 'Southwood', 'Meadow', 'Brookside', 'Canyon', 'Mesa', 'Vista',
] as const

export const NEW_FAMILY_NAMES = ['Whitaker', 'Delgado', 'Fitzgerald', 'Harrington', 'Okonkwo', 'Lindqvist', 'Moreau', 'Saito'] as const

// ---------------------------------------------------------------- calendar (school year 2025-2026)

export interface Term {
  readonly key: 'year' | 's1' | 's2'
  readonly title: string
  readonly type: 'schoolYear' | 'semester'
  readonly start: string
  readonly end: string
}

export const SCHOOL_YEAR = '2026'
export const TERMS: readonly Term[] = [
  { key: 'year', title: '2025-2026 School Year', type: 'schoolYear', start: '2025-08-13', end: '2026-06-05' },
  { key: 's1', title: 'Fall 2025', type: 'semester', start: '2025-08-13', end: '2025-12-19' },
  { key: 's2', title: 'Spring 2026', type: 'semester', start: '2026-01-06', end: '2026-06-05' },
]

/** Night 1 runs at 02:00 US Eastern (06:00 UTC) on this day; night n is n-1 days later. */
export const FIRST_NIGHT_UTC = Date.UTC(2025, 8, 15, 6, 0, 0)
export const DAY_MS = 86_400_000

export function nightInstant(night: number): number {
  return FIRST_NIGHT_UTC + (night - 1) * DAY_MS
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

export function addDays(date: string, days: number): string {
  return isoDate(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS)
}

// ---------------------------------------------------------------- course catalogue

export type Level = 'elementary' | 'middle' | 'high'

export interface CourseSpec {
  readonly code: string
  readonly title: string
  readonly subject: string
  /** Grades that take it ([] = open to every grade of the school). */
  readonly grades: readonly string[]
  readonly classType: 'homeroom' | 'scheduled'
  /** A one-semester course: sections alternate between fall and spring. */
  readonly semester: boolean
  /** Part of every student's schedule (core) or chosen (elective). */
  readonly core: boolean
}

export interface LevelSpec {
  readonly level: Level
  readonly grades: readonly string[]
  /** Relative size of a school of this level. */
  readonly weight: number
  /** Electives each student takes. */
  readonly electives: number
  readonly periods: number
  readonly courses: readonly CourseSpec[]
  readonly label: string
}

const core = (code: string, title: string, subject: string, grades: readonly string[], classType: 'homeroom' | 'scheduled' = 'scheduled'): CourseSpec =>
  ({ code, title, subject, grades, classType, semester: false, core: true })
const elective = (code: string, title: string, subject: string, semester = false): CourseSpec =>
  ({ code, title, subject, grades: [], classType: 'scheduled', semester, core: false })

const ELEMENTARY_GRADES = ['KG', '01', '02', '03', '04', '05'] as const
const MIDDLE_GRADES = ['06', '07', '08'] as const
const HIGH_GRADES = ['09', '10', '11', '12'] as const

const perGrade = (grades: readonly string[], code: string, title: string, subject: string, classType: 'homeroom' | 'scheduled' = 'scheduled'): CourseSpec[] =>
  grades.map((g) => core(`${code}${g}`, `${title} ${g === 'KG' ? 'K' : String(Number(g))}`, subject, [g], classType))

export const LEVELS: Readonly<Record<Level, LevelSpec>> = {
  elementary: {
    level: 'elementary', grades: ELEMENTARY_GRADES, weight: 0.6, electives: 1, periods: 4, label: 'Elementary School',
    courses: [
      ...perGrade(ELEMENTARY_GRADES, 'HR', 'Homeroom', 'Homeroom', 'homeroom'),
      ...perGrade(ELEMENTARY_GRADES, 'MA', 'Mathematics', 'Mathematics'),
      ...perGrade(ELEMENTARY_GRADES, 'RD', 'Reading and Writing', 'English Language Arts'),
      ...perGrade(ELEMENTARY_GRADES, 'SC', 'Science', 'Science'),
      elective('ART', 'Art', 'Fine Arts'), elective('MUS', 'General Music', 'Music'), elective('PE', 'Physical Education', 'Physical Education'),
    ],
  },
  middle: {
    level: 'middle', grades: MIDDLE_GRADES, weight: 1.0, electives: 2, periods: 7, label: 'Middle School',
    courses: [
      ...perGrade(MIDDLE_GRADES, 'ELA', 'English Language Arts', 'English Language Arts'),
      ...perGrade(MIDDLE_GRADES, 'MATH', 'Math', 'Mathematics'),
      ...perGrade(MIDDLE_GRADES, 'SCI', 'Science', 'Science'),
      ...perGrade(MIDDLE_GRADES, 'SS', 'Social Studies', 'Social Studies'),
      ...perGrade(MIDDLE_GRADES, 'PE', 'Physical Education', 'Physical Education'),
      elective('BAND', 'Concert Band', 'Music'), elective('CHOR', 'Chorus', 'Music'), elective('ART', 'Art', 'Fine Arts'),
      elective('SPAN1', 'Spanish I', 'World Languages'), elective('TECH', 'Technology and Design', 'Computer Science'),
      elective('THTR', 'Theater Arts', 'Fine Arts', true),
    ],
  },
  high: {
    level: 'high', grades: HIGH_GRADES, weight: 1.6, electives: 4, periods: 8, label: 'High School',
    courses: [
      core('ENG9', 'English 9', 'English Language Arts', ['09']), core('ENG10', 'English 10', 'English Language Arts', ['10']),
      core('ENG11', 'American Literature', 'English Language Arts', ['11']), core('ENG12', 'British Literature', 'English Language Arts', ['12']),
      core('ALG1', 'Algebra I', 'Mathematics', ['09']), core('GEOM', 'Geometry', 'Mathematics', ['10']),
      core('ALG2', 'Algebra II', 'Mathematics', ['11']), core('PRECAL', 'Precalculus', 'Mathematics', ['12']),
      core('BIO', 'Biology', 'Science', ['09']), core('CHEM', 'Chemistry', 'Science', ['10']),
      core('PHYS', 'Physics', 'Science', ['11']), core('ENVS', 'Environmental Science', 'Science', ['12']),
      core('WHIST', 'World History', 'Social Studies', ['09', '10']), core('USHIST', 'U.S. History', 'Social Studies', ['11']),
      core('GOV', 'Government and Economics', 'Social Studies', ['12']),
      elective('SPAN1', 'Spanish I', 'World Languages'), elective('SPAN2', 'Spanish II', 'World Languages'),
      elective('FREN1', 'French I', 'World Languages'), elective('ART1', 'Studio Art I', 'Fine Arts'), elective('BAND', 'Symphonic Band', 'Music'),
      elective('CSP', 'Computer Science Principles', 'Computer Science'), elective('PE', 'Physical Education', 'Physical Education', true),
      elective('HLTH', 'Health', 'Health', true), elective('PSYCH', 'Psychology', 'Social Studies', true),
      elective('JOUR', 'Journalism', 'English Language Arts', true), elective('CHOR', 'Concert Choir', 'Music'),
      elective('STAT', 'AP Statistics', 'Mathematics'),
    ],
  },
}

/** The level of the i-th school of a district: mostly elementary, then middle and high schools. */
const LEVEL_PATTERN: readonly Level[] = ['elementary', 'middle', 'high', 'elementary', 'elementary', 'high', 'elementary', 'middle', 'elementary', 'elementary']

export function levelOf(schoolIndex: number): Level {
  return LEVEL_PATTERN[schoolIndex % LEVEL_PATTERN.length]!
}

/** Title changes a retitled course may take. */
export function retitled(title: string, n: number): string {
  const forms = [`${title} (Honors)`, `${title} - Integrated`, `${title} A`, `Intro to ${title}`]
  return forms[n % forms.length]!
}

/** Target students per section. */
export const SECTION_SIZE = 26
/** Sections a teacher teaches. */
export const SECTIONS_PER_TEACHER = 5
