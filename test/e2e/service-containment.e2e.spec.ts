/**
 * A command that a service runs for another process and that fails with an error nothing
 * handled (an exception thrown from a callback, a rejection nobody awaited) fails alone: its
 * CLI gets one line and exit code 1, the service logs it and answers the next command. Only a
 * command in the middle of a write stops the service, telling its CLI why.
 *
 * No input reaching the real commands is known to raise such an error, so the service here is
 * the real CommandService (socket, protocol, containment, the process's fatal handlers) running
 * commands that fail on purpose, and its client is the real CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { synclog, tempDir } from '../support/cli.js'

const DIST = resolve(import.meta.dirname, '../../dist')

/** A service whose commands, named by --tenant, misbehave in the ways a command's code can. */
const SERVICE = `
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
const dist = (file) => import(pathToFileURL(join(process.env.DIST, file)).href)
const { CommandService } = await dist('service/command-service.js')
const { SharedStore } = await dist('service/shared-store.js')
const { currentInvocation } = await dist('service/invocation-scope.js')
const { exitOnUnhandled } = await dist('process/fatal.js')
const { createLogger } = await dist('logging/logger.js')
exitOnUnhandled()
const opened = { writing: (work) => work() }
const shared = new SharedStore(opened, process.env.DATA, undefined)
const never = () => new Promise(() => {})
const run = async (argv) => {
  const invocation = currentInvocation()
  const tenant = argv[argv.indexOf('--tenant') + 1]
  invocation.stdout.write('started\\n')
  switch (tenant) {
    case 'throws-in-a-callback':
      setTimeout(() => { throw new Error('a callback of this command threw') }, 10)
      return never()
    case 'rejects-unawaited':
      void Promise.reject(new Error('nobody awaited this'))
      await new Promise((r) => setTimeout(r, 300))
      invocation.stdout.write('too late\\n')
      return 0
    case 'hangs':
      process.stderr.write('hanging\\n')
      return never()
    case 'throws-after-answering':
      setTimeout(() => { throw new Error('left-over work threw') }, 100)
      return 0
    case 'throws-while-writing':
      return shared.exclusive(() => { setTimeout(() => { throw new Error('a write callback threw') }, 10); return never() })
    default:
      invocation.stdout.write('served ' + tenant + '\\n')
      return 0
  }
}
const logger = createLogger({ level: 'error', pretty: false, destination: process.stderr })
const service = await CommandService.listen(shared, run, logger)
process.on('SIGTERM', () => service.close(1000, Promise.resolve()).then(() => process.exit(0)))
process.stdout.write('ready\\n')
`

let root = ''
let data = ''
let child: ChildProcess | undefined
let serviceLog = ''

async function startService(): Promise<ChildProcess> {
  const started = spawn(process.execPath, ['--input-type=module', '-e', SERVICE], {
    env: { ...process.env, DIST, DATA: data },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  serviceLog = ''
  started.stderr!.setEncoding('utf8').on('data', (d: string) => (serviceLog += d))
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`the service did not start: ${serviceLog}`)), 30_000)
    started.stdout!.on('data', (d: Buffer) => {
      if (!d.toString().includes('ready')) return
      clearTimeout(timer)
      ready()
    })
    started.once('exit', (code) => fail(new Error(`the service exited with ${code}: ${serviceLog}`)))
  })
  return started
}

function exited(process: ChildProcess): Promise<number | null> {
  return process.exitCode !== null ? Promise.resolve(process.exitCode) : new Promise((done) => process.once('exit', (code) => done(code)))
}

const command = (tenant: string): ReturnType<typeof synclog> => synclog(['log', '--tenant', tenant, '--data', data], { timeoutMs: 30_000 })

/** The service still answers: a well-behaved command runs to its end. */
async function expectServed(tenant: string): Promise<void> {
  const next = await command(tenant)
  expect(next.code, next.stderr).toBe(0)
  expect(next.stdout).toBe(`started\nserved ${tenant}\n`)
}

beforeAll(async () => {
  root = await tempDir('service-containment')
  data = join(root, 'data')
  await mkdir(data)
})

afterEach(() => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  child = undefined
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('a command that fails with an error nothing handled', () => {
  it('fails alone when a callback of it throws, and the service answers the next command', async () => {
    child = await startService()
    const failed = await command('throws-in-a-callback')
    expect(failed.code).toBe(1)
    expect(failed.stdout).toBe('started\n')
    expect(failed.stderr).toBe('synclog: unexpected error: a callback of this command threw\n')
    expect(serviceLog).toContain('a CLI command failed with an error nothing handled; the service goes on')
    expect(serviceLog).toMatch(/"level":50/)
    await expectServed('district-a')
  }, 60_000)

  it('fails alone on a rejection nobody awaited, before printing more', async () => {
    child = await startService()
    const failed = await command('rejects-unawaited')
    expect(failed.code).toBe(1)
    expect(failed.stderr).toBe('synclog: unexpected error: nobody awaited this\n')
    expect(failed.stdout).not.toContain('too late')
    await expectServed('district-b')
  }, 60_000)

  it('keeps the service up when left-over work of a command that already answered throws', async () => {
    child = await startService()
    const answered = await command('throws-after-answering')
    expect(answered.code, answered.stderr).toBe(0)
    await new Promise((r) => setTimeout(r, 300))
    expect(serviceLog).toContain('from a CLI command that had already ended')
    await expectServed('district-c')
  }, 60_000)

  it('stops the service when it was in the middle of a write, and its CLI says why', async () => {
    child = await startService()
    const failed = await command('throws-while-writing')
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain(
      'synclog: unexpected error: a write callback threw; the synclog service stops, as this write may be half done',
    )
    expect(await exited(child)).toBe(1)
  }, 60_000)

  it('leaves its CLI a message, not a hang, when the service dies under it', async () => {
    child = await startService()
    const running = command('hangs')
    while (!serviceLog.includes('hanging')) await new Promise((r) => setTimeout(r, 20))
    child.kill('SIGKILL')
    const cut = await running
    expect(cut.timedOut).toBeUndefined()
    expect(cut.code).toBe(1)
    expect(cut.stderr).toContain('synclog: the synclog service stopped before the command finished; run it again')
  }, 60_000)
})
