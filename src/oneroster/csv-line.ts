/**
 * One CSV record on one physical line, split as RFC 4180 says: fields separated
 * by commas, a field that starts with a double quote runs to the matching quote,
 * and `""` inside it is one quote. Nothing is trimmed.
 *
 * OneRoster forbids line breaks inside a field, so a quote still open at the end
 * of the line is an error of that line, not a reason to read on.
 */

export type SplitLine =
  | { readonly ok: true; readonly fields: readonly string[] }
  | {
      readonly ok: false
      /** The fields read before the problem (best effort, e.g. to name the sourcedId). */
      readonly fields: readonly string[]
      /** 0-based index of the field with the problem. */
      readonly column: number
      readonly problem: 'too-long' | 'malformed'
      readonly message: string
    }

const QUOTE = 34
const COMMA = 44

function fail(fields: readonly string[], message: string): SplitLine {
  return { ok: false, fields, column: fields.length, problem: 'malformed', message }
}

function tooLong(fields: readonly string[], maxFieldChars: number): SplitLine {
  return {
    ok: false,
    fields,
    column: fields.length,
    problem: 'too-long',
    message: `value is longer than the limit csvFieldChars (${maxFieldChars} characters)`,
  }
}

export function splitCsvLine(text: string, maxFieldChars: number): SplitLine {
  const fields: string[] = []
  const end = text.length
  let i = 0
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      let value = ''
      let from = i + 1
      for (;;) {
        const q = text.indexOf('"', from)
        if (q < 0 && value.length + (end - from) > maxFieldChars) return tooLong(fields, maxFieldChars)
        if (q < 0)
          return fail(fields, 'a quoted value is not closed before the end of the line (OneRoster allows no line breaks inside a value)')
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += text.slice(from, q + 1)
          from = q + 2
          continue
        }
        value += text.slice(from, q)
        i = q + 1
        break
      }
      if (value.length > maxFieldChars) return tooLong(fields, maxFieldChars)
      if (i < end && text.charCodeAt(i) !== COMMA)
        return fail(fields, `unexpected character ${JSON.stringify(text[i])} after a closing quote`)
      fields.push(value)
      if (i === end) return { ok: true, fields }
      i++
    } else {
      const comma = text.indexOf(',', i)
      const stop = comma < 0 ? end : comma
      if (stop - i > maxFieldChars) return tooLong(fields, maxFieldChars)
      const value = text.slice(i, stop)
      if (value.includes('"')) return fail(fields, 'a double quote inside an unquoted value (quote the whole value and double the quote)')
      fields.push(value)
      if (comma < 0) return { ok: true, fields }
      i = comma + 1
    }
  }
}
