/** OneRoster vocabularies the fold checks (docs/oneroster.md#vocabularies). Values are case-sensitive. */

export const ORG_TYPES = ['department', 'school', 'district', 'local', 'state', 'national'] as const
export const SESSION_TYPES = ['gradingPeriod', 'semester', 'schoolYear', 'term'] as const
export const CLASS_TYPES = ['homeroom', 'scheduled'] as const
export const USER_ROLES = ['administrator', 'aide', 'guardian', 'parent', 'proctor', 'relative', 'student', 'teacher'] as const
export const ENROLLMENT_ROLES = ['administrator', 'aide', 'proctor', 'student', 'teacher'] as const
/** CEDS entry grade codes used by US OneRoster feeds. */
export const GRADES = [
  'IT',
  'PR',
  'PK',
  'TK',
  'KG',
  '01',
  '02',
  '03',
  '04',
  '05',
  '06',
  '07',
  '08',
  '09',
  '10',
  '11',
  '12',
  '13',
  'PS',
  'UG',
  'Other',
] as const

/** 1.2 lets any enumeration carry an extension token `ext:<name>`. */
const EXTENSION_RE = /^ext:[A-Za-z0-9.\-_]+$/

export function inVocabulary(value: string, vocabulary: readonly string[]): boolean {
  return vocabulary.includes(value) || EXTENSION_RE.test(value)
}

export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
