/**
 * What the browser tests (test/e2e/web-ui.e2e.spec.ts) and the screenshot script
 * (scripts/screenshots.ts) share (the data set itself is in demo-data-set.ts):
 * API tokens made with the real `synclog token create`, `synclog serve` run as a
 * child process (the built dist/, as a user runs it), Debian's Chromium driven by
 * playwright-core, plain JSON API reads, and axe-core's accessibility scan.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { LogRecord } from '../../src/clickhouse/types.js'
import { CLI, synclog } from './cli.js'

// ---------------------------------------------------------------- the browser

/** The Chromium binary the tests drive: Debian's, unless SYNCLOG_CHROMIUM names another. */
export const CHROMIUM_PATH = process.env.SYNCLOG_CHROMIUM ?? '/usr/bin/chromium'

export const CHROMIUM_MISSING =
  "Debian's chromium is needed for the browser tests: apt-get install chromium (or set SYNCLOG_CHROMIUM to a Chromium binary)"

/**
 * Without a Chromium the browser tests are skipped with a note, so `npm test` still runs
 * on a machine without one; under CI=true (where .ci/run installs it) they fail instead.
 */
export const SKIP_NO_BROWSER = !existsSync(CHROMIUM_PATH) && process.env['CI'] !== 'true'

/** Headless Chromium that stays off the network except for the pages it is sent to. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_MISSING}; no file at ${CHROMIUM_PATH}`)
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  })
}

/**
 * Signs in on the page's form ("API token", "Sign in") and waits for the banner's
 * "Signed in as <name>". The session is a cookie of the page's context.
 */
export async function signIn(page: Page, base: string, secret: string, name: string): Promise<void> {
  await page.goto(`${base}/`)
  await page.getByLabel('API token', { exact: true }).fill(secret)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  await page.getByRole('banner').getByText(`Signed in as ${name}`).waitFor()
}

// ---------------------------------------------------------------- the server

export interface RunningServe {
  /** `http://127.0.0.1:<port>`, as the server printed it. */
  readonly base: string
  /** What the server wrote to stderr so far (for failure messages). */
  readonly stderr: () => string
  /** What the server wrote to stdout so far (its start lines). */
  readonly stdout: () => string
  /** SIGTERM, then the exit code once it has finished (SIGKILL after `graceMs`). */
  readonly stop: (graceMs?: number) => Promise<number | null>
  /** The server's process id (to stop and continue it: a hung service). */
  readonly pid: number
}

const LISTENING = /synclog API listening on (http:\/\/\S+)/

/**
 * `synclog serve --port 0 --data <dataDir>` from dist/ (run `npm run build` first),
 * resolved with the URL it prints once it listens. The server holds the data
 * directory's lock until it is stopped.
 */
export async function startServe(
  dataDir: string,
  opts: { timeoutMs?: number; args?: readonly string[]; env?: Record<string, string> } = {},
): Promise<RunningServe> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`)
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', dataDir, ...(opts.args ?? [])], {
    env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // A test run that dies must not leave a server holding the data directory.
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)
  let out = ''
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  const timeoutMs = opts.timeoutMs ?? 60_000
  try {
    const base = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`synclog serve printed no URL within ${timeoutMs / 1000} s: ${out}${err}`)), timeoutMs)
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const match = LISTENING.exec(out)
        if (match) {
          clearTimeout(timer)
          done(match[1]!)
        }
      })
      child.once('error', (e) => {
        clearTimeout(timer)
        fail(e)
      })
      void exited.then((code) => {
        clearTimeout(timer)
        fail(new Error(`synclog serve exited with ${code} before listening: ${err}`))
      })
    })
    return {
      base,
      stderr: () => err,
      stdout: () => out,
      stop: (graceMs) => stopChild(child, exited, killOnExit, graceMs ?? 20_000),
      pid: child.pid!,
    }
  } catch (e) {
    await stopChild(child, exited, killOnExit, 5_000)
    throw e
  }
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<number | null>,
  killOnExit: () => void,
  graceMs: number,
): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    try {
      await exited
    } finally {
      clearTimeout(timer)
    }
  }
  process.off('exit', killOnExit)
  return child.exitCode
}

/** `synclog token create --name <name> [scope…]`: the secret it prints. */
export async function createToken(data: string, name: string, ...scope: string[]): Promise<string> {
  const run = await synclog(['token', 'create', '--name', name, ...scope, '--data', data])
  const token = run.stdout.trim()
  if (run.code !== 0 || !/^slk_[A-Za-z0-9_-]{43}$/.test(token)) {
    throw new Error(`synclog token create --name ${name} exited with ${run.code}: ${run.stderr}`)
  }
  return token
}

// ---------------------------------------------------------------- the JSON API

/** GET `path` with a bearer token; throws unless the answer is 200. */
export async function apiGet(base: string, path: string, token: string): Promise<Response> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`)
  return res
}

export async function apiJson<T>(base: string, path: string, token: string): Promise<T> {
  return (await (await apiGet(base, path, token)).json()) as T
}

/** Every row of a paged endpoint (the log, a drill-down), following `nextCursor`. */
export async function walkPages(base: string, path: string, token: string): Promise<LogRecord[]> {
  const rows: LogRecord[] = []
  const sep = path.includes('?') ? '&' : '?'
  let cursor: string | null = null
  for (let pages = 0; pages < 10_000; pages++) {
    const page: { rows: LogRecord[]; nextCursor: string | null } = await apiJson(
      base,
      `${path}${sep}limit=10000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      token,
    )
    rows.push(...page.rows)
    if (page.nextCursor === null) return rows
    cursor = page.nextCursor
  }
  throw new Error(`${path}: more than 10,000 pages`)
}

// ---------------------------------------------------------------- accessibility

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  targets: string[]
}

const AXE_SCRIPT = resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js')

/**
 * axe-core's violations on the page as it is now. The script is injected as an
 * inline script tag, so the page's context needs `bypassCSP: true` when the page
 * sends a Content-Security-Policy.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => 'axe' in window)
  if (!loaded) await page.addScriptTag({ path: AXE_SCRIPT })
  return page.evaluate(async () => {
    interface AxeResult {
      violations: { id: string; impact?: string | null; help: string; nodes: { target: unknown[] }[] }[]
    }
    const axe = (window as unknown as { axe: { run: (context?: unknown) => Promise<AxeResult> } }).axe
    const result = await axe.run(document)
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      targets: v.nodes.map((n) => n.target.map(String).join(' ')),
    }))
  })
}

/** One line per violation, for a failure message. */
export function describeViolations(violations: readonly AxeViolation[]): string {
  return violations
    .map((v) => `${v.id} (${v.impact ?? '?'}): ${v.help} at ${v.targets.slice(0, 5).join(', ')}${v.targets.length > 5 ? ', …' : ''}`)
    .join('\n')
}
