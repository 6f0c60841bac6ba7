/**
 * Spreadsheet formula-injection defence (OWASP "CSV Injection", ASVS 1.2.10).
 * Only string cells go through here: numbers stay numbers, and headers are not user input.
 */

/** First non-whitespace char is = + - @, or the value starts with TAB or CR. */
const FORMULA_TRIGGER = /^(?:[\t\r]|\s*[=+\-@])/

/** OWASP CSV-injection defence: a string whose first non-whitespace char is = + - @ or that starts with TAB or CR gets a leading apostrophe. */
export function neutralizeFormula(value: string): string {
  return FORMULA_TRIGGER.test(value) ? `'${value}` : value
}

/** Neutralizes string cells and leaves numbers alone. */
export function neutralizeCell(value: string | number): string | number {
  return typeof value === 'string' ? neutralizeFormula(value) : value
}
