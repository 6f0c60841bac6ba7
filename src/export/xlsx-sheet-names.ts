/** Excel's limits on worksheet names: 31 characters, none of \ / ? * [ ] :, no apostrophe at either end. */
const MAX_SHEET_NAME = 31
const FORBIDDEN = /[\\/?*[\]:]/g
export const DEFAULT_SHEET_NAME = 'Sync Log'

/** A base name Excel accepts, from whatever the caller asked for. */
export function safeSheetName(requested: string): string {
  const cleaned = requested
    .replace(FORBIDDEN, ' ')
    .replace(/\s+/g, ' ')
    .replace(/^'+|'+$/g, '')
    .trim()
    .slice(0, MAX_SHEET_NAME)
    .trim()
  return cleaned === '' ? DEFAULT_SHEET_NAME : cleaned
}

/** The name of the n-th sheet (1-based): 'Sync Log', 'Sync Log (2)', … always within Excel's 31 characters. */
export function nthSheetName(base: string, n: number): string {
  if (n === 1) return base
  const suffix = ` (${n})`
  return `${base.slice(0, MAX_SHEET_NAME - suffix.length).trimEnd()}${suffix}`
}
