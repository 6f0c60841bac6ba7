/**
 * Untrusted text (SIS values, ids, JSON keys, file names) made safe to print on a terminal.
 * A raw ESC starts a control sequence (colours, cursor moves, OSC 8 links, OSC 52 clipboard
 * writes, the window title); C1 controls are the same sequences in one byte; bidi overrides
 * and isolates reorder what is shown; other invisible format characters hide text. Each is
 * shown as an escape instead (`\x1b`, `\u202e`), so the operator sees exactly what came in.
 */

/**
 * C0 and C1 controls and DEL, line and paragraph separators, and invisible format characters
 * (bidi marks, overrides and isolates, zero-width spaces, BOM, soft hyphen, tags) except the
 * zero-width joiner and non-joiner that Persian, Indic scripts and emoji need to render.
 */
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cf}]/gu
const KEEP = new Set(['\u200c', '\u200d'])
const UNSAFE_EXCEPT_NEWLINE = /(?!\n)[\p{Cc}\p{Zl}\p{Zp}\p{Cf}]/gu

const NAMED = new Map([
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
])

function visible(ch: string): string {
  if (KEEP.has(ch)) return ch
  const named = NAMED.get(ch)
  if (named !== undefined) return named
  const code = ch.codePointAt(0) ?? 0
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`
}

export interface TerminalTextOptions {
  /** Keep line feeds (text of several lines that synclog composed around untrusted parts). Default false. */
  readonly keepNewlines?: boolean
}

/** `text` with every control and invisible format character shown as an escape such as `\x1b` or `\u202e`. */
export function terminalText(text: string, opts: TerminalTextOptions = {}): string {
  return text.replace(opts.keepNewlines ? UNSAFE_EXCEPT_NEWLINE : UNSAFE, visible)
}

/**
 * JSON text with the characters JSON.stringify leaves raw (DEL, C1 controls, bidi overrides,
 * invisible format characters) written as `\uXXXX` escapes: the same data once parsed, and
 * nothing in it can drive a terminal that shows it. Raw line feeds (between tokens) are kept.
 */
export function terminalJson(json: string): string {
  return json.replace(UNSAFE_EXCEPT_NEWLINE, (ch) => {
    let out = ''
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`
    return out
  })
}
