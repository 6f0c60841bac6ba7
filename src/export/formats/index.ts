/**
 * The output formats, listed once. Adding a format is one module in this folder
 * (see format.ts for what it declares) and one entry in FORMATS below: the CLI's
 * `--format` choices and help, the API's log downloads (and their OpenAPI
 * entries), the page's download menu and the scheduled export's `--format` are
 * all read from this list.
 */
import { SynclogError } from '../../errors.js'
import { clever } from './clever.js'
import { csv } from './csv.js'
import type { FormatFor, LogFileFormat, OutputFormat, Renders } from './format.js'
import { json } from './json.js'
import { table } from './table.js'
import { xlsx } from './xlsx.js'

export type { FormatFor, LogFileFormat, OutputFormat, Renders } from './format.js'
export { csv, table }

/** The built-in formats, in the order choices are listed (the first log file format is the page's usual download). */
const FORMATS = [table, json, xlsx, csv, clever] as const

/** The name of a built-in format. */
export type FormatName = (typeof FORMATS)[number]['name']

const registered: OutputFormat[] = [...FORMATS]

const NAME = /^[a-z][a-z0-9]{0,15}$/

/**
 * Adds a format to the list, after the built-in ones; every place that offers formats
 * offers it from then on (the API from the next server built). For formats that live
 * outside this folder, and for tests.
 */
export function registerFormat(format: OutputFormat): void {
  if (!NAME.test(format.name))
    throw new Error(`an output format's name is 1 to 16 lowercase letters and digits, starting with a letter (got '${format.name}')`)
  if (registered.some((f) => f.name === format.name)) throw new Error(`an output format named '${format.name}' is already registered`)
  if (format.file !== undefined && !NAME.test(format.file.extension))
    throw new Error(`format '${format.name}': its file extension must be lowercase letters and digits`)
  registered.push(format)
}

/**
 * Which formats an output takes: those that render one thing, those that render any of
 * several (the log's page or its stream), or the log file formats.
 */
export type Wanted = Renders | readonly Renders[] | 'log file'

/** The formats that render `kind`, in list order. */
export function formatsFor<K extends Renders>(kind: K): FormatFor<K>[] {
  return registered.filter((f): f is FormatFor<K> => typeof f[kind] === 'function')
}

/** The formats written as log files: `log --out`, scheduled exports, the API's downloads, the page's menu. */
export function logFileFormats(): LogFileFormat[] {
  return registered.filter((f): f is LogFileFormat => f.file !== undefined && typeof f.log === 'function')
}

function select(wanted: Wanted): OutputFormat[] {
  if (wanted === 'log file') return logFileFormats()
  const kinds: readonly Renders[] = typeof wanted === 'string' ? [wanted] : wanted
  return registered.filter((f) => kinds.some((kind) => typeof f[kind] === 'function'))
}

/** The names of the formats `wanted` takes, in list order. */
export function formatNames(wanted: Wanted): string[] {
  return select(wanted).map((f) => f.name)
}

/** `table | json | csv`: the choices, for help texts. */
export function formatChoices(wanted: Wanted): string {
  return formatNames(wanted).join(' | ')
}

/** The format called `name` among those `wanted` takes; a USAGE error naming the choices otherwise. */
export function formatNamed<K extends Renders>(name: string, wanted: K, option?: string): FormatFor<K>
export function formatNamed(name: string, wanted: 'log file', option?: string): LogFileFormat
export function formatNamed(name: string, wanted: Wanted, option?: string): OutputFormat
export function formatNamed(name: string, wanted: Wanted, option = '--format'): OutputFormat {
  const choices = select(wanted)
  const found = choices.find((f) => f.name === name)
  if (found === undefined)
    throw new SynclogError('USAGE', `${option} must be one of ${choices.map((f) => f.name).join(', ')} (got '${name}')`)
  return found
}
