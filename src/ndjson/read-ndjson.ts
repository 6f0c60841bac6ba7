/**
 * Change events written as JSON lines: one `ChangeEvent` object per line, read
 * line by line and checked against the zod schema built from the Avro contract. A line that is not
 * JSON or not a valid event becomes an issue naming the line and the field (the
 * zod path joined with '.'); the lines after it are read as usual. Blank lines are
 * skipped. Only a file that cannot be opened throws (`INPUT_UNREADABLE`).
 *
 * Lines are framed with a bounded buffer (limits.ndjsonLineBytes): a longer line
 * costs that much memory however long it really is, is skipped unread, and is
 * reported as an issue naming the limit.
 */
import { createReadStream } from 'node:fs'
import type { z } from 'zod'
import type { ChangeEvent } from '../events/change-event.js'
import { SynclogError } from '../errors.js'
import { DEFAULT_LIMITS, formatBytes, type InputLimits } from '../config/limits.js'
import { physicalLineBatches } from '../oneroster/physical-lines.js'
import { changeEventJsonSchema } from './change-event-schema.js'
import { recordChangedOf } from './record-changed-json.js'

export type NdjsonLimits = Pick<InputLimits, 'ndjsonLineBytes' | 'metadataKeys'>

// As for CSV files: small reads keep each batch of lines short-lived.
const CHUNK_BYTES = 64 * 1024

export type NdjsonItem =
  { kind: 'event'; event: ChangeEvent; line: number } | { kind: 'issue'; line: number; field: string; message: string }

function describe(issue: z.core.$ZodIssue): { field: string; message: string } {
  const path = issue.path.map(String)
  // "Unrecognized key" is reported on the object; name the key itself.
  if (issue.code === 'unrecognized_keys' && issue.keys.length === 1)
    return { field: [...path, ...issue.keys].join('.'), message: issue.message }
  return { field: path.join('.'), message: issue.message }
}

function withinLimits(event: ChangeEvent, line: number, limits: Pick<NdjsonLimits, 'metadataKeys'>): NdjsonItem {
  const keys = event.type === 'RecordChanged' ? Object.keys(event.metadata).length : 0
  if (keys > limits.metadataKeys) {
    return {
      kind: 'issue',
      line,
      field: 'metadata',
      message: `${keys} metadata keys, more than the limit metadataKeys (${limits.metadataKeys})`,
    }
  }
  return { kind: 'event', event, line }
}

/** Reads one line; `line` is the 1-based physical line number. */
export function parseNdjsonLine(text: string, line: number, limits: Pick<NdjsonLimits, 'metadataKeys'> = DEFAULT_LIMITS): NdjsonItem {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return { kind: 'issue', line, field: '', message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` }
  }
  // Most lines are a RecordChanged written in full: read by hand; zod judges the others and names their problems.
  const event = recordChangedOf(json)
  if (event !== null) return withinLimits(event, line, limits)
  const parsed = changeEventJsonSchema.safeParse(json)
  if (parsed.success) return withinLimits(parsed.data, line, limits)
  const [first, ...others] = parsed.error.issues
  if (!first) return { kind: 'issue', line, field: '', message: 'not a valid change event' }
  const { field, message } = describe(first)
  return {
    kind: 'issue',
    line,
    field,
    message: others.length === 0 ? message : `${message} (and ${others.length} more problem${others.length === 1 ? '' : 's'})`,
  }
}

export async function* readChangeEventsNdjson(path: string, limits: NdjsonLimits = DEFAULT_LIMITS): AsyncGenerator<NdjsonItem> {
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES })
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('ready', () => resolve())
    stream.once('error', reject)
  })
  try {
    await opened
  } catch (e) {
    stream.destroy()
    throw new SynclogError('INPUT_UNREADABLE', `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
  let line = 0
  const tooLong = `the line is longer than the limit ndjsonLineBytes (${formatBytes(limits.ndjsonLineBytes)}); it is skipped unread`
  try {
    for await (const batch of physicalLineBatches(stream, limits.ndjsonLineBytes)) {
      for (const pl of batch) {
        line = pl.line
        if (pl.overLong) yield { kind: 'issue', line, field: '', message: tooLong }
        else if (pl.invalidUtf8) yield { kind: 'issue', line, field: '', message: 'the line is not valid UTF-8' }
        else if (pl.text.trim() !== '') yield parseNdjsonLine(pl.text, line, limits)
      }
    }
  } catch (e) {
    throw new SynclogError('INPUT_UNREADABLE', `cannot read ${path} after line ${line}: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    })
  } finally {
    stream.destroy()
  }
}

/** The events of an NDJSON file; each unreadable line goes to `onIssue` (with its line number) and is skipped. */
export async function* changeEventsOf(
  path: string,
  onIssue: (issue: Extract<NdjsonItem, { kind: 'issue' }>) => void,
  limits: NdjsonLimits = DEFAULT_LIMITS,
): AsyncGenerator<ChangeEvent> {
  for await (const item of readChangeEventsNdjson(path, limits)) {
    if (item.kind === 'event') yield item.event
    else onIssue(item)
  }
}

/** How a bad line is shown to a person: `file:line: field: message`. */
export function describeIssue(path: string, issue: { line: number; field: string; message: string }): string {
  return `${path}:${issue.line}: ${issue.field ? `${issue.field}: ` : ''}${issue.message}`
}
