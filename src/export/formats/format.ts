/**
 * What an output format is: a name, a label, what it can render and how. Each
 * format is one module in this folder, listed once in index.ts; the CLI's
 * `--format` choices, the API's downloads, the page's download menu and the
 * scheduled export's formats are all read from that list.
 */
import type { DailyRollup, DrillDown, SyncRun, SyncSummary } from '../../clickhouse/types.js'
import type { RosterAt } from '../../clickhouse/roster-at.js'
import type { TimeZones } from '../local-time.js'
import type { LogRecord } from '../log-record.js'
import type { SyncComparison } from '../../clickhouse/sync-compare.js'
import type { CauseGroups } from '../../clickhouse/cause-groups.js'

type Out = NodeJS.WritableStream

/** A report file written into a directory, and its rows. */
interface ReportFile {
  readonly file: string
  readonly rows: number
}

/**
 * Everything a format can render; a format implements the ones it supports. `zones`: the
 * time zone of each tenant, for formats that show times to people (src/export/local-time.ts;
 * default: the system's zone for every tenant); formats for scripts keep ISO instants.
 */
interface Renderers {
  /** The sync history. */
  syncs(out: Out, runs: readonly SyncRun[], zones?: TimeZones): Promise<void>
  /** One sync's counts, and per school when the summary has them. */
  summary(out: Out, summary: SyncSummary, zones?: TimeZones): Promise<void>
  /** Daily rollups. */
  daily(out: Out, days: readonly DailyRollup[]): Promise<void>
  /** A page of log rows; `note` is for people (another page exists, the window was empty). */
  logPage(out: Out, rows: readonly LogRecord[], note?: string, zones?: TimeZones): Promise<void>
  /** The rows behind one count of a summary; `note` as for logPage. */
  drillDown(out: Out, drill: DrillDown, note?: string, zones?: TimeZones): Promise<void>
  /**
   * Every log row as it comes, in memory bounded by a batch: to stdout, a file or an HTTP response.
   * Resolves to the number of rows once they are written; `out` may be left open or ended.
   */
  log(out: Out, rows: AsyncIterable<LogRecord>, zones?: TimeZones): Promise<number>
  /** A section's students or a student's sections at an instant, rebuilt from the log. */
  roster(out: Out, roster: RosterAt, zones?: TimeZones): Promise<void>
  /** Two syncs side by side: counts per entity, and the records whose outcome differs; `note` as for logPage. */
  compare(out: Out, comparison: SyncComparison, note?: string, zones?: TimeZones): Promise<void>
  /** A sync's rows grouped by root cause, then its error rows that have no cause. */
  causes(out: Out, groups: CauseGroups, uncaused: readonly LogRecord[], zones?: TimeZones): Promise<void>
  /** A sync's error reports, as files in `dir` (created when there is anything to write). */
  report(dir: string, syncId: string, rows: Iterable<LogRecord>): Promise<ReportFile[]>
}

export type Renders = keyof Renderers

interface FileType {
  /** Without the dot: `csv`. */
  readonly extension: string
  /** The media type of a download. */
  readonly contentType: string
}

export interface OutputFormat extends Partial<Renderers> {
  /** What `--format` and a scheduled export's settings take. Letters and digits. */
  readonly name: string
  /** For people: the page's "Export to <label>", the API's descriptions. */
  readonly label: string
  /**
   * As a file: its extension and media type. A format with a file type and a `log`
   * renderer is a log file format: `log --out`, scheduled exports, the API's downloads
   * and the page's download menu all offer it. Without one, output goes to the terminal.
   */
  readonly file?: FileType
  /**
   * Laid out for people rather than for scripts: paged commands show 100 rows by default and
   * say in the output how to get more; other formats get every row, or the next cursor on stderr.
   */
  readonly forPeople?: boolean
  /** Bytes a terminal cannot show (a zip, a workbook): written only to a file. */
  readonly binary?: boolean
  /** One line on what the file holds, for the API's documentation of its download. */
  readonly fileNote?: string
}

/** A format that renders `K`. */
export type FormatFor<K extends Renders> = OutputFormat & Pick<Renderers, K>

/** A format written as log files: scheduled exports, downloads, `log --out`. */
export type LogFileFormat = FormatFor<'log'> & { readonly file: FileType }
