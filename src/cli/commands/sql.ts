/**
 * `synclog sql "SELECT …"`: analysts' read-only SQL on the store, through the
 * same checks and limits as `synclog serve --sql-port` (src/sql/analyst-sql.ts),
 * printed as the ClickHouse format gives it. Parameters as clickhouse-client
 * takes them: `--param_tenant=emerson` (or `--param-tenant emerson`).
 */
import type { Command } from 'commander'
import { dictOf } from '../../dict.js'
import { SynclogError } from '../../errors.js'
import { terminalText } from '../../export/terminal-text.js'
import { AnalystSql } from '../../sql/analyst-sql.js'
import { queryParam } from '../../sql/sql-request.js'
import { SqlError } from '../../sql/sql-error.js'
import { contextOf } from '../context.js'

const PARAM = /^--param[_-]([^=]+)(?:=([\s\S]*))?$/

/** The SQL and its `--param_name value` pairs from the words commander did not know. */
function sqlAndParams(words: readonly string[]): { sql: string; params: Record<string, string> } {
  const params = dictOf<string>([])
  const positional: string[] = []
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!
    const match = PARAM.exec(word)
    if (match === null) {
      if (word.startsWith('--'))
        throw new SynclogError('USAGE', `unknown option '${word}'; query parameters are given as --param_<name>=<value>`)
      positional.push(word)
      continue
    }
    let value = match[2]
    if (value === undefined) {
      value = words[i + 1]
      if (value === undefined) throw new SynclogError('USAGE', `${word} needs a value: --param_${match[1]!}=<value>`)
      i++
    }
    try {
      queryParam(match[1]!.replaceAll('-', '_'), value, params)
    } catch (e) {
      throw new SynclogError('USAGE', (e as Error).message)
    }
  }
  if (positional.length !== 1) {
    throw new SynclogError(
      'USAGE',
      `give the query as one argument in quotes: synclog sql "SELECT count() FROM sync_log FINAL" (got ${positional.length} arguments)`,
    )
  }
  return { sql: positional[0]!, params }
}

export function registerSql(program: Command): void {
  program
    .command('sql')
    .description(
      "run a read-only SQL query (SELECT, EXPLAIN, DESCRIBE, SHOW TABLES, EXISTS) on synclog's tables; parameters as --param_<name>=<value> (see docs/analysts.md)",
    )
    .argument('<query>', 'the query, in quotes; a FORMAT clause chooses the output format')
    .option(
      '--format <format>',
      'ClickHouse output format when the query has no FORMAT clause (default: PrettyCompact on a terminal, TabSeparatedWithNames otherwise)',
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_query: string, opts: { format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const { sql, params } = sqlAndParams(cmd.args)
      // The caller's terminal: this process's, or the one a forwarded command prints to.
      const terminal = ctx.stdoutIsTerminal
      const defaultFormat = opts.format ?? (terminal ? 'PrettyCompact' : 'TabSeparatedWithNames')
      await ctx.withStore('sql', async (store) => {
        try {
          const result = await new AnalystSql(store.clickhouse, ctx.config.sql).run({ sql, params, defaultFormat, output: new Map() })
          for await (const chunk of result.body) {
            const bytes = chunk as Buffer
            ctx.stdout.write(terminal ? terminalText(bytes.toString('utf8'), { keepNewlines: true }) : bytes)
          }
        } catch (e) {
          if (e instanceof SqlError) throw new SynclogError('USAGE', `${e.message} (${e.clickhouseName})`, { cause: e })
          throw e
        }
      })
    })
}
