/**
 * Change events written as JSON lines: one `ChangeEvent` object per line, read
 * line by line and checked against the zod mirror of the type. A line that is not
 * JSON or not a valid event becomes an issue naming the line and the field (the
 * zod path joined with '.'); the lines after it are read as usual. Blank lines are
 * skipped. Only a file that cannot be opened throws (`INPUT_UNREADABLE`).
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { z } from 'zod'
import type { ChangeEvent } from '../events/change-event.js'
import { SynclogError } from '../errors.js'
import { asChangeEvent, changeEventSchema } from './change-event-schema.js'

export type NdjsonItem = { kind: 'event'; event: ChangeEvent; line: number } | { kind: 'issue'; line: number; field: string; message: string }

function describe(issue: z.core.$ZodIssue): { field: string; message: string } {
  const path = issue.path.map(String)
  // "Unrecognized key" is reported on the object; name the key itself.
  if (issue.code === 'unrecognized_keys' && issue.keys.length === 1) return { field: [...path, ...issue.keys].join('.'), message: issue.message }
  return { field: path.join('.'), message: issue.message }
}

/** Reads one line; `line` is the 1-based physical line number. */
export function parseNdjsonLine(text: string, line: number): NdjsonItem {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return { kind: 'issue', line, field: '', message: `not valid JSON: ${e instanceof Error ? e.message : String(e)}` }
  }
  const parsed = changeEventSchema.safeParse(json)
  if (parsed.success) return { kind: 'event', event: asChangeEvent(parsed.data), line }
  const [first, ...others] = parsed.error.issues
  if (!first) return { kind: 'issue', line, field: '', message: 'not a valid change event' }
  const { field, message } = describe(first)
  return { kind: 'issue', line, field, message: others.length === 0 ? message : `${message} (and ${others.length} more problem${others.length === 1 ? '' : 's'})` }
}

export async function* readChangeEventsNdjson(path: string): AsyncGenerator<NdjsonItem> {
  const stream = createReadStream(path, { encoding: 'utf8' })
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
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  let line = 0
  try {
    for await (let text of lines) {
      line++
      if (line === 1 && text.startsWith('\uFEFF')) text = text.slice(1)
      if (text.trim() === '') continue
      yield parseNdjsonLine(text, line)
    }
  } catch (e) {
    throw new SynclogError('INPUT_UNREADABLE', `cannot read ${path} after line ${line}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  } finally {
    lines.close()
    stream.destroy()
  }
}

/** The events of an NDJSON file; each unreadable line goes to `onIssue` (with its line number) and is skipped. */
export async function* changeEventsOf(path: string, onIssue: (issue: Extract<NdjsonItem, { kind: 'issue' }>) => void): AsyncGenerator<ChangeEvent> {
  for await (const item of readChangeEventsNdjson(path)) {
    if (item.kind === 'event') yield item.event
    else onIssue(item)
  }
}

/** How a bad line is shown to a person: `file:line: field: message`. */
export function describeIssue(path: string, issue: { line: number; field: string; message: string }): string {
  return `${path}:${issue.line}: ${issue.field ? `${issue.field}: ` : ''}${issue.message}`
}
