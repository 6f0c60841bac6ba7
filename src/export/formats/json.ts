/**
 * `json`: exact data for scripts. Objects are pretty-printed; log rows are one
 * object per line (NDJSON), so a reader can stream them. Not offered as a file
 * download (it has no file type), though `log --out` writes it to a file.
 */
import { LOG_COLUMNS } from '../../events/sync-log-event.js'
import type { LogRecord } from '../log-record.js'
import { terminalJson } from '../terminal-text.js'
import type { OutputFormat } from './format.js'

/** JSON for stdout: exact data, with what JSON leaves raw (C1 controls, bidi overrides) escaped too. */
export function toJson(value: unknown, indent?: number): string {
  return terminalJson(JSON.stringify(value, null, indent))
}

/** One log row as JSON takes it: its keys in the log's column order. */
const logObject = (row: LogRecord): Record<string, unknown> => Object.fromEntries(LOG_COLUMNS.map((c) => [c, row[c]]))

/** One log row as a line of NDJSON. */
const logLine = (row: LogRecord): string => `${toJson(logObject(row))}\n`

function writeJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(`${toJson(value, 2)}\n`)
}

export const json = {
  name: 'json',
  label: 'JSON',

  async syncs(out, runs) {
    writeJson(out, runs)
  },

  async summary(out, summary) {
    writeJson(out, summary)
  },

  async daily(out, days) {
    writeJson(out, days)
  },

  async logPage(out, rows) {
    for (const row of rows) out.write(logLine(row))
  },

  async drillDown(out, drill) {
    writeJson(out, drill)
  },

  async compare(out, comparison) {
    writeJson(out, comparison)
  },

  async roster(out, roster) {
    writeJson(out, roster)
  },

  async causes(out, groups, uncaused) {
    writeJson(out, { ...groups, uncausedRows: uncaused.map(logObject) })
  },

  async log(out, rows) {
    let n = 0
    for await (const row of rows) {
      if (!out.write(logLine(row))) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
      n++
    }
    return n
  },
} as const satisfies OutputFormat
