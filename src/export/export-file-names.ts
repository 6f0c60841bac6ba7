/**
 * File names of scheduled exports: `<name>-<UTC stamp>.<ext>`, or per school
 * `<name>-[<tenant>-]<school id>-<school name>-<UTC stamp>.<ext>`. Every part
 * from data is reduced to portable characters; an id that had to change gets a
 * short hash of the original so two ids never share a file. Pure.
 */
import { createHash } from 'node:crypto'

const MAX_ID_CHARS = 48
const MAX_NAME_CHARS = 60
/** The part used for rows whose school on the chosen side is blank (districts, terms). */
export const DISTRICT_PART = 'district-level'

/** `20250301T021500Z`: UTC, sortable, no characters a file system or a shell minds. */
export function fileStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '')
}

/** Letters and digits (accents dropped), '.', '_' and '-', runs of anything else as one '-', trimmed, at most `max` characters. */
export function sanitizePart(text: string, max = MAX_NAME_CHARS): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+/, '')
    .slice(0, max)
    .replace(/[-.]+$/, '')
}

/** An id as a file-name part: itself when already portable, else its sanitized form plus 8 hex of its hash. */
export function idPart(id: string): string {
  const safe = sanitizePart(id, MAX_ID_CHARS)
  if (safe === id) return id
  const hash = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 8)
  return safe === '' ? hash : `${safe}_${hash}`
}

export interface SchoolFileKey {
  readonly tenant: string
  /** '' for the rows with no school on the chosen side. */
  readonly schoolId: string
  readonly schoolName: string
}

/** The file name (no directory) of one run's file, or of one school's file when `school` is given. */
export function exportFileName(
  name: string,
  stampMs: number,
  /** The format's file extension, without the dot. */
  ext: string,
  school?: SchoolFileKey & { withTenant: boolean },
): string {
  const parts = [name]
  if (school !== undefined) {
    if (school.withTenant) parts.push(idPart(school.tenant))
    if (school.schoolId === '') {
      parts.push(DISTRICT_PART)
    } else {
      parts.push(idPart(school.schoolId))
      const readable = sanitizePart(school.schoolName)
      if (readable !== '') parts.push(readable)
    }
  }
  parts.push(fileStamp(stampMs))
  return `${parts.join('-')}.${ext}`
}
