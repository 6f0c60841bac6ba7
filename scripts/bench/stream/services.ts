/**
 * Kafka and the schema registry for the stream stage, through scripts/services.sh:
 * whatever already answers is used and left alone; what is missing is started
 * and, at the end, stopped again (only that).
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const SCRIPT = join(REPO, 'scripts', 'services.sh')

export type Service = 'kafka' | 'registry'

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, [...args], { cwd: REPO, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 127
      resolve({ code, stdout: String(stdout), stderr: String(stderr) })
    })
  })
}

function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n')
}

/** `java -version`'s first line, or null when there is no java to run. */
export async function javaVersion(): Promise<string | null> {
  const r = await run('java', ['-version'], 30_000)
  if (r.code !== 0) return null
  return (r.stderr || r.stdout).trim().split('\n')[0] ?? 'java'
}

export async function answers(service: Service): Promise<boolean> {
  return (await run('bash', [SCRIPT, 'status', service], 60_000)).code === 0
}

/** Starts the services; throws with the script's last lines when it cannot. */
export async function startServices(services: readonly Service[]): Promise<void> {
  if (services.length === 0) return
  const r = await run('bash', [SCRIPT, 'start', ...services], 600_000)
  if (r.code !== 0) throw new Error(`scripts/services.sh start ${services.join(' ')} failed (exit ${r.code}):\n${tail(r.stderr)}`)
}

export async function stopServices(services: readonly Service[]): Promise<string> {
  if (services.length === 0) return ''
  const r = await run('bash', [SCRIPT, 'stop', ...services], 120_000)
  return r.code === 0 ? '' : `scripts/services.sh stop ${services.join(' ')} exited ${r.code}: ${tail(r.stderr, 3)}`
}
