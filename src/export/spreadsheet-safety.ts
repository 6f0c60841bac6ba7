/**
 * Spreadsheet formula-injection defence (OWASP "CSV Injection", ASVS 1.2.10), the one
 * source for every CSV and Excel output. Only string cells go through here: numbers stay
 * numbers, and headers are not user input.
 *
 * A cell may start a formula wherever a reader may start a cell: at the start of the value
 * and, for a reader that splits rows on line breaks inside quoted fields, right after any
 * line break in it. So every line of a value is checked, not only the first.
 */

/**
 * Line breaks a reader may split a row on: CR, LF (CRLF is CR then LF), and the ones
 * Unicode-aware readers honour too (VT, FF, NEL, LINE and PARAGRAPH SEPARATOR).
 */
const LINE_BREAK = /[\r\n\v\f\u0085\u2028\u2029]/
const LINE_BREAKS = /[\r\n\v\f\u0085\u2028\u2029]/g

/**
 * A line that starts a formula: TAB first (OWASP), or = + - @ (or their full-width forms,
 * which some spreadsheet locales take as formula signs) after any run of characters a
 * reader may drop or not show: whitespace, control characters (LibreOffice drops NUL, so
 * `\0=1+1` arrives as `=1+1`) and format characters (BOM, zero-width space, bidi marks).
 */
const FORMULA_LINE = /^(?:\t|[\s\p{Cc}\p{Cf}\p{Z}]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/u

/** A value that may need an apostrophe somewhere: it has a formula sign or TAB, or starts with a line break. */
const MAY_TRIGGER = /[\t=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|^[\r\n\v\f\u0085\u2028\u2029]/

/**
 * OWASP CSV-injection defence, line by line: a leading apostrophe on the value, and after
 * each line break in it, wherever the text from there starts a formula (`=`, `+`, `-`, `@`,
 * full-width `＝＋－＠`, or TAB, possibly after whitespace or invisible characters). A value
 * that starts with CR or another line break gets one too. Everything else is unchanged.
 */
export function neutralizeFormula(value: string): string {
  if (!MAY_TRIGGER.test(value)) return value
  if (!LINE_BREAK.test(value)) return neutralizeLine(value)
  let out = LINE_BREAK.test(value.charAt(0)) ? "'" : ''
  let start = 0
  for (const brk of value.matchAll(LINE_BREAKS)) {
    out += neutralizeLine(value.slice(start, brk.index)) + brk[0]
    start = brk.index + 1
  }
  return out + neutralizeLine(value.slice(start))
}

function neutralizeLine(line: string): string {
  return FORMULA_LINE.test(line) ? `'${line}` : line
}
