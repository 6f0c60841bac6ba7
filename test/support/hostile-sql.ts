/**
 * SQL that synclog's analyst endpoint must refuse: writes, DDL, administration,
 * settings changes, table functions and scalar functions that reach files, URLs,
 * other processes or the server, system tables, multi-statements, INTO OUTFILE,
 * each in several disguises (subqueries, CTEs, JOINs, UNION ALL, comments, case,
 * quoting, look-alike letters).
 */

const WRITES = [
  'INSERT INTO sync_log SELECT * FROM sync_log',
  "INSERT INTO sync_runs (tenant, syncId) VALUES ('district-a', 'forged')",
  'INSERT INTO FUNCTION file(\'out.tsv\') SELECT * FROM sync_log',
  'ALTER TABLE sync_log DELETE WHERE 1',
  "ALTER TABLE sync_log UPDATE tenant = 'x' WHERE 1",
  'ALTER TABLE sync_log DROP PARTITION tuple()',
  'ALTER TABLE sync_log MODIFY TTL toDateTime(date) + INTERVAL 1 DAY',
  'ALTER TABLE sync_log FREEZE',
  'DELETE FROM sync_log WHERE 1',
  "UPDATE sync_log SET tenant = 'x' WHERE 1",
  'DROP TABLE sync_log', 'DROP TABLE IF EXISTS sync_runs', 'DROP DATABASE default', 'DROP VIEW sync_daily_mv',
  'TRUNCATE TABLE sync_log', 'TRUNCATE sync_runs',
  'CREATE TABLE x (a Int8) ENGINE = Memory', 'CREATE VIEW v AS SELECT * FROM sync_log', 'CREATE DATABASE x',
  "CREATE TABLE f (line String) ENGINE = File(LineAsString, '/etc/passwd')",
  'CREATE USER analyst2', 'CREATE ROW POLICY p ON sync_log USING 1 TO ALL', 'CREATE FUNCTION plus1 AS x -> x + 1',
  "CREATE DICTIONARY d (a UInt64) PRIMARY KEY a SOURCE(FILE(path '/etc/passwd' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)",
  'RENAME TABLE sync_log TO sync_log_old', 'EXCHANGE TABLES sync_log AND sync_runs', 'DETACH TABLE sync_log', 'ATTACH TABLE sync_log',
  'UNDROP TABLE sync_log', 'OPTIMIZE TABLE sync_log FINAL', 'OPTIMIZE TABLE sync_runs DEDUPLICATE',
  'SYSTEM STOP MERGES', 'SYSTEM SHUTDOWN', 'SYSTEM DROP DNS CACHE', 'SYSTEM FLUSH LOGS', 'SYSTEM RELOAD CONFIG',
  'KILL QUERY WHERE 1', 'KILL MUTATION WHERE 1',
  'SET readonly = 0', 'SET max_execution_time = 0', 'SET allow_ddl = 1', 'SET max_result_rows = 0',
  'GRANT ALL ON *.* TO default', 'REVOKE SELECT ON sync_log FROM default',
  "BACKUP TABLE sync_log TO File('backup')", "RESTORE TABLE sync_log FROM File('backup')",
  'USE system', 'SHOW GRANTS', 'SHOW USERS', 'SHOW PROCESSLIST', 'SHOW DATABASES', "SHOW SETTINGS LIKE '%'", 'SHOW TABLES FROM system',
  'SHOW TABLES FROM INFORMATION_SCHEMA', 'SHOW CREATE TABLE system.users', 'CHECK TABLE sync_log', 'BEGIN TRANSACTION', 'COMMIT',
  'EXPLAIN AST DROP TABLE sync_log', "EXPLAIN SYNTAX INSERT INTO sync_runs SELECT * FROM sync_runs",
  'DESCRIBE TABLE system.users', "DESCRIBE file('/etc/passwd', 'LineAsString')", 'EXISTS TABLE system.users',
]

const TABLE_FUNCTIONS = [
  "file('/etc/passwd', 'LineAsString')", "file('../../../../etc/hostname', 'LineAsString')",
  "url('http://127.0.0.1:1/', 'LineAsString')", "remote('127.0.0.1', system.one)", "remoteSecure('127.0.0.1', default.sync_log)",
  "s3('http://127.0.0.1:1/bucket/key.csv', 'CSV')", "executable('ls', 'TSV', 'x String')", "input('x String')",
  "cluster('default', system.one)", "clusterAllReplicas('default', system.one)", "mysql('127.0.0.1:3306', 'd', 't', 'u', 'p')",
  "postgresql('127.0.0.1:5432', 'd', 't', 'u', 'p')", "jdbc('jdbc:x', 'd', 't')", "odbc('DSN=x', 'd', 't')",
  "hdfs('hdfs://127.0.0.1:9000/x', 'TSV', 'a String')", "merge('default', '.*')", "merge(currentDatabase(), '^sync')",
  'view(SELECT * FROM system.users)', "dictionary('d')", "format(JSONEachRow, '{\"a\": 1}')", 'numbers(1e12)', 'numbers_mt(1e12)',
  'zeros(1e12)', "generateRandom('a String')", "values('a Int8', 1)", "sqlite('/etc/passwd', 't')", 'loop(sync_log)',
  "mergeTreeIndex(currentDatabase(), sync_log)", "azureBlobStorage('http://127.0.0.1:1', 'c', 'b')", "urlCluster('default', 'http://127.0.0.1:1/')",
]

const FOREIGN_TABLES = [
  'system.one', 'system.numbers', 'system.tables', 'system.users', 'system.settings', 'system.processes', 'system.query_log',
  'system.disks', 'system.build_options', 'system.databases', 'system.functions', 'system.macros', 'system.server_settings',
  'system.dictionaries', 'information_schema.tables', 'INFORMATION_SCHEMA.COLUMNS', '`system`.`users`', '"system"."settings"',
  'SYSTEM.one', 'system . one',
]

const SCALAR_FUNCTIONS = [
  "file('/etc/passwd')", "file('/etc/hostname')", "getSetting('readonly')", "getServerSetting('path')", 'hostName()', 'FQDN()',
  'serverUUID()', "getMacro('replica')", 'filesystemAvailable()', "dictGet('d', 'a', toUInt64(1))", "joinGet('j', 'a', 1)",
  'sleep(3)', 'sleepEachRow(1)', 'currentProfiles()', "getClientHTTPHeader('authorization')", 'uptime()', 'tcpPort()',
  "catboostEvaluate('/etc/passwd', 1)", "getMergeTreeSetting('index_granularity')", 'displayName()', 'buildId()',
]

const SETTINGS = [
  'readonly = 0', 'readonly = 2', 'max_execution_time = 0', 'max_result_rows = 0', 'max_memory_usage = 0', 'max_rows_to_read = 0',
  'allow_ddl = 1', "result_overflow_mode = 'break'", 'allow_introspection_functions = 1', 'max_threads = 1',
]

/** Ways to reach a table expression: plain, subquery, CTE, JOIN, UNION ALL, IN, scalar subquery. */
function reaching(table: string): string[] {
  return [
    `SELECT * FROM ${table}`,
    `SELECT * FROM sync_log WHERE tenant IN (SELECT toString(1) FROM ${table})`,
    `WITH x AS (SELECT * FROM ${table}) SELECT * FROM x`,
    `SELECT * FROM sync_runs AS r JOIN ${table} AS t ON 1 = 1`,
    `SELECT syncId FROM sync_runs UNION ALL SELECT toString(count()) FROM ${table}`,
    `SELECT (SELECT count() FROM ${table}) AS n`,
    `select * from (select * from ${table}) as sub`,
  ]
}

/** The corpus; `dir` is where an INTO OUTFILE would write (the test checks nothing appears there). */
export function hostileSql(dir: string): string[] {
  const out: string[] = [...WRITES]
  for (const f of TABLE_FUNCTIONS) out.push(...reaching(f))
  for (const t of FOREIGN_TABLES) out.push(...reaching(t).slice(0, 5), `SELECT * FROM sync_log WHERE tenant IN ${t}`)
  for (const f of SCALAR_FUNCTIONS) out.push(`SELECT ${f}`, `SELECT tenant, ${f} AS v FROM sync_runs`, `SELECT * FROM sync_runs WHERE syncId = toString(${f})`)
  for (const s of SETTINGS) {
    out.push(`SELECT count() FROM sync_log SETTINGS ${s}`, `SELECT * FROM (SELECT * FROM sync_runs SETTINGS ${s})`,
      `EXPLAIN SELECT * FROM sync_runs SETTINGS ${s}`, `SELECT * FROM sync_runs FORMAT JSON SETTINGS ${s}`)
  }
  out.push(
    'SELECT 1; DROP TABLE sync_log', 'SELECT 1;DROP TABLE sync_log;', 'SELECT 1\n;\nINSERT INTO sync_runs SELECT * FROM sync_runs',
    'SELECT 1 /* ; */; TRUNCATE sync_log', "SELECT ';'; DROP TABLE sync_log", 'SELECT 1; SELECT 2', 'sElEcT 1; dRoP tAbLe sync_log',
    '/* SELECT */ DROP TABLE sync_log', '-- SELECT\nDROP TABLE sync_log', 'DROP/**/TABLE/**/sync_log', '  \n\tdrop table sync_log',
    'SELECT * FROM sync_log;\0DROP TABLE sync_log', 'SELECT 1 -- \nUNION ALL SELECT * FROM system.one',
    'ЅELECT 1', 'SELECT * FROM ѕystem.one', 'ＤＲＯＰ ＴＡＢＬＥ sync_log', 'SE\u200BLECT 1', 'SELECT\u00a0* FROM system.one',
    'SELECT * FROM sync_log\u037e DROP TABLE sync_log',
    `SELECT * FROM sync_log INTO OUTFILE '${dir}/out.tsv'`, `select 1 into outfile '${dir}/out2.tsv' TRUNCATE`,
    `SELECT * FROM sync_runs INTO OUTFILE '${dir}/out3.tsv' FORMAT CSV`, `EXPLAIN SELECT 1 INTO OUTFILE '${dir}/out4.tsv'`,
    'SELECT * FROM {t:Identifier}',
    '', '   ', ';', 'SELECT', "SELECT '", 'SELECT * FROM sync_log WHERE ' + '('.repeat(5000) + '1' + ')'.repeat(5000),
  )
  return out
}

/** Queries an operator may run: they must keep working after the corpus. */
export const BENIGN_SQL = [
  'SELECT count() FROM sync_log FINAL',
  "SELECT syncId, status FROM sync_runs FINAL WHERE tenant = 'district-a' ORDER BY syncId",
  'WITH r AS (SELECT * FROM sync_runs FINAL) SELECT count() FROM r',
  'SELECT tenant, count() FROM sync_log FINAL GROUP BY tenant UNION ALL SELECT tenant, count() FROM sync_runs FINAL GROUP BY tenant',
  'SHOW TABLES', 'DESCRIBE TABLE sync_runs', 'EXISTS TABLE sync_log', 'EXPLAIN SELECT count() FROM sync_log',
  'EXPLAIN indexes = 1 SELECT count() FROM sync_log FINAL WHERE tenant = \'district-a\'',
  'SELECT version(), timezone()',
]
