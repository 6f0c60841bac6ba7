/**
 * The pieces of analysts' SQL that need no engine: the limits as an operator
 * sets them, what a ClickHouse request's parameters become, the parse of
 * `EXPLAIN AST` output, and ClickHouse's compressed framing as the Java client
 * reads it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { parseAstDump, walk } from '../../src/sql/sql-ast.js'
import { compressedBlocks } from '../../src/sql/native-compression.js'
import { DEFAULT_SQL_LIMITS, sqlSettings } from '../../src/config/sql-limits.js'
import { queryFromParams } from '../../src/sql/sql-request.js'
import { SqlError } from '../../src/sql/sql-error.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-sql-unit-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the SQL limits', () => {
  it('default to bounded time, memory and result size, and follow the config file and the environment', () => {
    const absent = { SYNCLOG_CONFIG: join(dir, 'absent.json') }
    expect(loadConfig({ data: dir }, absent).sql).toEqual(DEFAULT_SQL_LIMITS)
    const set = loadConfig({ data: dir }, { ...absent, SYNCLOG_SQL_MAX_EXECUTION_SECONDS: '5', SYNCLOG_SQL_MAX_RESULT_BYTES: '64MiB' }).sql
    expect(set.maxExecutionSeconds).toBe(5)
    expect(set.maxResultBytes).toBe(64 * 1024 * 1024)
    expect(() => loadConfig({ data: dir }, { ...absent, SYNCLOG_SQL_MAX_RESULT_ROWS: '0' })).toThrow(/sql\.maxResultRows/)
  })

  it('reach the engine as read-only settings that throw on overflow', () => {
    const settings = sqlSettings(DEFAULT_SQL_LIMITS, new Map())
    expect(settings).toMatch(/^readonly = 1, max_execution_time = 30, /)
    expect(settings).toContain("result_overflow_mode = 'throw'")
    expect(settings).toContain('output_format_json_quote_64bit_integers = 1')
  })
})

describe('a ClickHouse HTTP request', () => {
  it('joins ?query= and the body, and takes param_* values and output settings', () => {
    const q = queryFromParams(
      new URLSearchParams('query=SELECT&param_tenant=a&default_format=JSON&date_time_output_format=iso&enable_http_compression=1'),
      '1',
    )
    expect(q.sql).toBe('SELECT\n1')
    expect({ ...q.params }).toEqual({ tenant: 'a' })
    expect(q.defaultFormat).toBe('JSON')
    expect([...q.output]).toEqual([['date_time_output_format', 'iso']])
  })

  it('refuses settings that would lift the read-only mode or the limits', () => {
    for (const bad of ['readonly=0', 'max_execution_time=0', 'max_result_rows=0', 'allow_ddl=1', 'param_a-b=1']) {
      expect(() => queryFromParams(new URLSearchParams(bad), 'SELECT 1'), bad).toThrow(SqlError)
    }
  })

  it('keeps a parameter named __proto__ as data', () => {
    const q = queryFromParams(new URLSearchParams('param___proto__=x'), 'SELECT {__proto__:String}')
    expect(Object.hasOwn(q.params, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(q.params)).toBeNull()
  })
})

describe('the parse of EXPLAIN AST', () => {
  it('is a tree by indentation, with names and without aliases', () => {
    const root = parseAstDump(
      'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 2)\n   ExpressionList (children 1)\n    Asterisk\n   TablesInSelectQuery (children 1)\n    TablesInSelectQueryElement (children 1)\n     TableExpression (children 1)\n      TableIdentifier system.one (alias t)\n',
    )!
    expect(root.kind).toBe('SelectWithUnionQuery')
    const table = [...walk(root)].find((n) => n.kind === 'TableIdentifier')!
    expect(table.text).toBe('system.one')
    expect(table.parent?.kind).toBe('TableExpression')
  })

  it('is refused when it has two roots', () => {
    expect(parseAstDump('SelectWithUnionQuery\nDropQuery\n')).toBeUndefined()
  })
})

describe("ClickHouse's compressed framing", () => {
  it('splits the answer into blocks of at most 1 MiB, each with its LZ4 header and sizes', () => {
    const data = Buffer.alloc(2.5 * 1024 * 1024, 'a')
    const blocks = [...compressedBlocks(data)]
    expect(blocks).toHaveLength(3)
    for (const block of blocks) {
      expect(block[16]).toBe(0x82)
      expect(block.readUInt32LE(17)).toBe(block.length - 16)
    }
    expect(blocks.reduce((n, b) => n + b.readUInt32LE(21), 0)).toBe(data.length)
  })
})
