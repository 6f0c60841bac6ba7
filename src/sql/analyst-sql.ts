/**
 * Analysts' SQL on the store, read-only for real: the one path behind
 * `synclog sql` and the ClickHouse HTTP endpoint of `synclog serve --sql-port`.
 *
 * 1. ClickHouse parses the text (`formatQuerySingleLine`, the text passed as a
 *    parameter, so it is never run): one statement, or a syntax error.
 * 2. The canonical text, its FORMAT clause taken off and synclog's SETTINGS
 *    (readonly = 1 and the limits) put on, is parsed again (`EXPLAIN AST`) and
 *    the tree is checked: a SELECT, EXPLAIN, DESCRIBE, SHOW TABLES or EXISTS; no
 *    other SETTINGS; tables only of synclog's database; no table functions; no
 *    function that reads files, the server or its settings; no INTO OUTFILE.
 * 3. Exactly that text runs. `readonly = 1` makes the engine itself refuse
 *    writes, DDL, settings changes and file/URL/process table functions.
 */
import type { Readable } from 'node:stream'
import type { ClickHouseClient, DataFormat } from '@clickhouse/client'
import { parseAstDump, walk, type AstNode } from './sql-ast.js'
import { SqlError, engineError, refused } from './sql-error.js'
import { howToRaiseSql, sqlSettings, type SqlLimits } from '../config/sql-limits.js'

/** ClickHouse's own limit on a query's text (`max_query_size`). */
export const MAX_QUERY_BYTES = 256 * 1024

export interface AnalystQuery {
  readonly sql: string
  /** `{name:Type}` placeholders' values, as ClickHouse's text format (`param_name=` over HTTP). */
  readonly params: Readonly<Record<string, string>>
  /** The output format when the SQL has no FORMAT clause. */
  readonly defaultFormat: string
  /** Output settings the caller chose (see OUTPUT_SETTINGS). */
  readonly output: ReadonlyMap<string, string>
}

export interface AnalystResult {
  readonly format: string
  readonly body: Readable
  readonly queryId: string
  readonly summary: Readonly<Record<string, string>>
}

/** What the engine runs for a query, and in which format it answers. */
export interface CheckedQuery {
  readonly text: string
  readonly format: string
}

const ROOT_KINDS = new Set(['SelectWithUnionQuery', 'Explain', 'DescribeQuery', 'ShowTables', 'ExistsTableQuery'])
/** Statements that read no rows: they run without a SETTINGS clause (their grammar has none). */
const NO_DATA_KINDS = new Set(['DescribeQuery', 'ShowTables', 'ExistsTableQuery'])

/**
 * Scalar functions that read a file, the server's identity, settings or
 * configuration, another table engine's data, or that only waste time.
 */
const DENIED_FUNCTION = new RegExp('^(?:' + [
  'file', 'url', 'getsetting', 'getsettingordefault', 'getserversetting', 'getmergetreesetting', 'getmacro', 'hostname', 'fqdn',
  'serveruuid', 'uptime', 'filesystem\\w*', 'currentprofiles', 'enabledprofiles', 'defaultprofiles', 'currentroles', 'enabledroles',
  'defaultroles', 'getclienthttpheader', 'tcpport', 'getserverport', 'dict\\w*', 'joinget\\w*', 'catboostevaluate', 'evalmlmethod',
  'naivebayesclassifier', 'modelevaluate', 'getoskernelversion', 'displayname', 'buildid', 'zookeepersessionuptime', 'sleep\\w*',
  'addresstoline\\w*', 'addresstosymbol', 'demangle', 'trap', 'logtrace', 'initialqueryid', 'queryid', 'shardnum', 'shardcount',
  'transactionid', 'transactionlatestsnapshot', 'transactionoldestsnapshot', 'globalvariable', 'connectionid', 'connection_id',
].join('|') + ')$', 'i')

/** The limit of sql.* an engine error is about, if any. */
function limitOf(name: string, message: string): keyof SqlLimits | undefined {
  if (name === 'TIMEOUT_EXCEEDED') return 'maxExecutionSeconds'
  if (name === 'MEMORY_LIMIT_EXCEEDED') return 'maxMemoryBytes'
  if (name !== 'TOO_MANY_ROWS_OR_BYTES') return undefined
  if (/max_rows_to_read|Limit for rows/i.test(message)) return 'maxRowsToRead'
  return /max bytes/i.test(message) ? 'maxResultBytes' : 'maxResultRows'
}

function noSettings(): Error {
  return refused('READONLY', 'SETTINGS clauses are not allowed: the SQL endpoint runs with read-only settings and fixed limits')
}

/**
 * The engine's parse of `text` with these parameters, via `EXPLAIN AST`; text
 * that ClickHouse cannot parse is a SYNTAX_ERROR.
 */
async function astOf(client: ClickHouseClient, text: string, params: Readonly<Record<string, string>>): Promise<AstNode> {
  const dump = await textOf(client, `EXPLAIN AST ${text}`, params)
  const root = parseAstDump(dump)
  if (root === undefined) throw refused('SYNTAX_ERROR', 'the query could not be parsed')
  return root
}

async function textOf(client: ClickHouseClient, query: string, params: Readonly<Record<string, string>>): Promise<string> {
  try {
    const result = await client.exec({ query, query_params: { ...params }, clickhouse_settings: { default_format: 'TabSeparatedRaw' } })
    const chunks: Buffer[] = []
    for await (const chunk of result.stream) chunks.push(Buffer.from(chunk as Buffer))
    return Buffer.concat(chunks).toString('utf8')
  } catch (e) {
    throw engineError(e)
  }
}

/** `tenant`, `r.syncId`, `system.one` → its first dotted part, unquoted, lower case. */
function firstPart(name: string): string {
  return name.split('.')[0]!.replaceAll('`', '').replaceAll('"', '').toLowerCase()
}

export class AnalystSql {
  private databases: Promise<{ home: string; others: Set<string> }> | undefined

  constructor(private readonly client: ClickHouseClient, private readonly limits: SqlLimits) {}

  /** The store's database (synclog's tables), and every other database of the engine. */
  private async knownDatabases(): Promise<{ home: string; others: Set<string> }> {
    this.databases ??= (async () => {
      const rows = (await textOf(this.client, 'SELECT currentDatabase(), name FROM system.databases', {})).split('\n').filter(Boolean)
      const home = rows[0]?.split('\t')[0] ?? 'default'
      const others = new Set(rows.map((r) => (r.split('\t')[1] ?? '').toLowerCase()).filter((d) => d !== '' && d !== home.toLowerCase()))
      return { home, others }
    })()
    return this.databases
  }

  /** The names a client may give as its database: the store's own, and `synclog`. */
  async acceptsDatabase(name: string): Promise<boolean> {
    const { home } = await this.knownDatabases()
    return name === home || name === 'synclog' || name === 'default'
  }

  /** Checks a query and builds the text the engine will run; a refusal is a SqlError. */
  async check(query: AnalystQuery): Promise<CheckedQuery> {
    if (Buffer.byteLength(query.sql) > MAX_QUERY_BYTES) {
      throw refused('QUERY_IS_TOO_LARGE', `the query is longer than ${MAX_QUERY_BYTES / 1024} KiB`)
    }
    if (query.sql.trim() === '') throw refused('SYNTAX_ERROR', 'the query is empty')
    // ClickHouse's parser, on the text as data: multi-statements and syntax errors stop here.
    const canonical = (await textOf(this.client, 'SELECT formatQuerySingleLine({q:String})', { q: query.sql })).replace(/\n$/, '')
    if (/\bINTO\s+OUTFILE\b/i.test(canonical)) throw refused('READONLY', 'INTO OUTFILE is not allowed: results are sent to the client only')
    if (/\{\s*\w+\s*:\s*Identifier\s*\}/i.test(canonical)) {
      throw refused('ACCESS_DENIED', 'Identifier query parameters are not allowed: name tables and columns in the query itself')
    }
    // Said here, not left to the engine: an embedded analyst session keeps earlier values (src/clickhouse/session-params.ts).
    for (const [, name] of canonical.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*[A-Za-z]/g)) {
      if (!Object.hasOwn(query.params, name!)) throw refused('UNKNOWN_QUERY_PARAMETER', `Substitution \`${name!}\` is not set: give its value as param_${name!}`)
    }
    const formatMatch = /\sFORMAT\s+([A-Za-z0-9_]+)$/.exec(canonical)
    const format = formatMatch?.[1] ?? query.defaultFormat
    if (!/^[A-Za-z0-9_]+$/.test(format)) throw refused('UNKNOWN_FORMAT', `unknown format '${format}'`)
    const statement = formatMatch === null ? canonical : canonical.slice(0, formatMatch.index)

    // The user's statement, then the one that runs (synclog's SETTINGS on): each must pass.
    const first = await astOf(this.client, statement, query.params)
    await this.checkTree(first, 0)
    // SHOW DATABASES, SHOW DICTIONARIES and SHOW CLUSTERS parse as ShowTables too.
    if (first.kind === 'ShowTables' && !/^SHOW (?:FULL )?TABLES(?: |$)/.test(statement)) throw refused('ACCESS_DENIED', 'of the SHOW statements only SHOW TABLES is allowed')
    if (NO_DATA_KINDS.has(first.kind)) return { text: statement, format }
    const text = `${statement} SETTINGS ${sqlSettings(this.limits, query.output)}`
    await this.checkTree(await astOf(this.client, text, query.params), 1)
    return { text, format }
  }

  /** Runs a checked query and hands back its result in the format asked for. */
  async run(query: AnalystQuery): Promise<AnalystResult> {
    const checked = await this.check(query)
    try {
      const result = await this.client.exec({
        query: checked.text,
        query_params: { ...query.params },
        clickhouse_settings: { default_format: checked.format as DataFormat },
      })
      const summary = Object.fromEntries(Object.entries(result.summary ?? {}).map(([k, v]) => [k, String(v)]))
      return { format: checked.format, body: result.stream, queryId: result.query_id, summary }
    } catch (e) {
      const err = engineError(e)
      const limit = limitOf(err.clickhouseName, err.message)
      if (limit === undefined) throw err
      throw new SqlError(err.clickhouseCode, err.clickhouseName, `${err.message}; ${howToRaiseSql(limit)}`, { cause: e })
    }
  }

  private async checkTree(root: AstNode, settingsExpected: number): Promise<void> {
    const { home, others } = await this.knownDatabases()
    if (!ROOT_KINDS.has(root.kind)) {
      throw refused('READONLY', `only SELECT, WITH, EXPLAIN, DESCRIBE, SHOW TABLES and EXISTS are allowed here (got ${root.kind.replace(/Query$/, '')}): the SQL endpoint is read-only`)
    }
    if (root.kind === 'Explain' && !root.children.some((c) => c.kind === 'SelectWithUnionQuery')) {
      throw refused('READONLY', 'EXPLAIN is allowed for SELECT queries only')
    }
    let settings = 0
    for (const node of walk(root)) {
      switch (node.kind) {
        case 'Set':
          // EXPLAIN's own options (`EXPLAIN indexes = 1`) are not query settings.
          if (node.parent?.kind !== 'Explain') settings++
          break
        case 'TableExpression':
          for (const child of node.children) {
            if (child.kind === 'Function') {
              throw refused('ACCESS_DENIED', `table functions are not allowed (${child.text}()): query synclog's tables (sync_log, sync_log_by_student, sync_runs, sync_counts, sync_outcomes, sync_daily)`)
            }
          }
          break
        case 'TableIdentifier': {
          const parts = node.text.split('.')
          if (parts.length > 1 && parts[0] === 'synclog' && home !== 'synclog') {
            throw refused('UNKNOWN_DATABASE', `write ${parts.slice(1).join('.')} without a database name: the store's tables are the only ones there are`)
          }
          if (parts.length > 1 && parts[0] !== home) {
            throw refused('ACCESS_DENIED', `table ${node.text} is not synclog's: only the tables of the synclog database can be queried (sync_log, sync_log_by_student, sync_runs, sync_counts, sync_outcomes, sync_daily)`)
          }
          break
        }
        case 'Function':
          if (DENIED_FUNCTION.test(node.text)) throw refused('ACCESS_DENIED', `function ${node.text}() is not allowed on the SQL endpoint`)
          break
        default:
          break
      }
      if ((node.kind === 'Identifier' || node.kind === 'TableIdentifier' || node.kind === 'ExistsTableQuery') && others.has(firstPart(node.text))) {
        throw refused('ACCESS_DENIED', `${node.text} is not synclog's: system tables and other databases cannot be queried`)
      }
      if (node.kind === 'ShowTables' && node.children.some((c) => c.kind === 'Identifier')) {
        throw refused('ACCESS_DENIED', 'SHOW TABLES lists synclog\'s tables only: leave out FROM')
      }
      if (node.kind === 'DescribeQuery' && node.children.some((c) => c.kind === 'TableExpression' && c.children.some((t) => t.kind !== 'TableIdentifier'))) {
        throw refused('ACCESS_DENIED', 'DESCRIBE takes a table name (DESCRIBE sync_log)')
      }
    }
    if (settings !== settingsExpected) throw noSettings()
  }
}
