/**
 * The official ClickHouse JDBC driver (com.clickhouse:clickhouse-jdbc from Maven
 * Central) driving test/support/jdbc/JdbcQuery.java: the driver and its
 * dependencies are fetched once into .cache/jdbc by Maven, the program is
 * compiled with javac into a temporary directory.
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')
const JARS = join(ROOT, '.cache', 'jdbc')
const SOURCE_DIR = join(ROOT, 'test', 'support', 'jdbc')

export interface JdbcClient {
  /** Rows as JSON objects of strings; rejects with the driver's message on a SQLException. */
  query(url: string, user: string, password: string, sql: string, params?: readonly string[]): Promise<Record<string, string | null>[]>
  close(): Promise<void>
}

function hasDriver(): boolean {
  return existsSync(JARS) && readdirSync(JARS).some((f) => /^jdbc-v2-.*\.jar$/.test(f))
}

/** The driver, ready to run; a reason instead when Java or Maven cannot provide it. */
export async function jdbcClient(): Promise<JdbcClient | { missing: string }> {
  try {
    await run('javac', ['-version'])
  } catch {
    return { missing: 'javac is not installed (apt-get install default-jdk-headless)' }
  }
  if (!hasDriver()) {
    try {
      await run('mvn', ['-q', '-B', '-f', join(SOURCE_DIR, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${JARS}`], {
        timeout: 300_000,
      })
    } catch (e) {
      return { missing: `Maven could not fetch com.clickhouse:clickhouse-jdbc: ${(e as Error).message.split('\n')[0]}` }
    }
  }
  const classes = await mkdtemp(join(tmpdir(), 'synclog-jdbc-'))
  const classpath = `${join(JARS, '*')}`
  await run('javac', ['-d', classes, '-cp', classpath, join(SOURCE_DIR, 'JdbcQuery.java')], { timeout: 120_000 })
  return {
    async query(url, user, password, sql, params = []) {
      try {
        const { stdout } = await run('java', ['-cp', `${classes}:${classpath}`, 'JdbcQuery', url, user, password, sql, ...params], {
          timeout: 60_000,
        })
        return stdout
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as Record<string, string | null>)
      } catch (e) {
        const stderr = (e as { stderr?: string }).stderr ?? ''
        throw new Error(/SQLException: .*/.exec(stderr)?.[0] ?? `java exited: ${stderr.slice(-2000)}`, { cause: e })
      }
    },
    close: () => rm(classes, { recursive: true, force: true }),
  }
}
