/**
 * How the commands take `--format`: the choices are the formats that render what the
 * command prints, read from the format list (src/export/formats), and the format
 * itself does the printing.
 */
import { SynclogError } from '../errors.js'
import { formatNamed, type FormatFor, type FormatName, type OutputFormat, type Renders, type Wanted } from '../export/formats/index.js'

/** The format `--format` names for output of `wanted`; a USAGE error naming the choices otherwise. */
export function parseFormat<K extends Renders>(value: string | undefined, wanted: K, fallback?: FormatName): FormatFor<K>
export function parseFormat(value: string | undefined, wanted: Wanted, fallback?: FormatName): OutputFormat
export function parseFormat(value: string | undefined, wanted: Wanted, fallback: FormatName = 'table'): OutputFormat {
  return formatNamed(value ?? fallback, wanted)
}

/** For output a command lays out itself (the token list): one of `names`. */
export function parseFormatAmong<N extends FormatName>(value: string | undefined, names: readonly N[]): N {
  const format = value ?? names[0]
  if (!(names as readonly string[]).includes(format ?? ''))
    throw new SynclogError('USAGE', `--format must be one of ${names.join(', ')} (got '${format}')`)
  return format as N
}
