/**
 * Every data directory can be reached by the CLI while `synclog serve` owns it: one whose path
 * is too long for a Unix socket gets a loopback port named, with a secret, in an owner-only
 * endpoint file. Commands from other processes are forwarded as on a socket; a connection that
 * cannot prove it holds the secret gets nothing.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { chmod, mkdir, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemoNights } from '../../src/demo/district.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { startServe, type RunningServe } from '../support/browser.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'

const { night1 } = generateDemoNights({ seed: 37, schoolYear: currentSchoolYear(new Date()) })

let root = ''
let data = ''
let service: RunningServe | undefined

/** What a raw connection to the endpoint's port gets back after sending `bytes` (it is closed by the service, or after 15 s). */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let got = ''
    const timer = setTimeout(() => socket.destroy(), 15_000)
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(got)
    })
    socket.write(bytes)
  })
}

beforeAll(async () => {
  root = await tempDir('service-endpoint')
  await writeOneRosterBundle(join(root, 'night1'), night1)
  data = join(root, 'district-a-rostering-exports'.padEnd(70, '-'), 'nightly-oneroster-sync-log-for-the-registrar'.padEnd(70, '-'), 'data')
  await mkdir(data, { recursive: true })
  expect(Buffer.byteLength(join(data, 'synclog.sock'))).toBeGreaterThan(150)
  service = await startServe(data)
}, 120_000)

afterAll(async () => {
  await service?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('a data directory whose path is too long for a socket', () => {
  it('is served at a loopback address named in an owner-only endpoint file', () => {
    expect(existsSync(join(data, 'synclog.sock'))).toBe(false)
    const file = join(data, 'synclog.endpoint')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) as number })
  })

  it('runs import, log and syncs from other processes in the service', async () => {
    const run = (args: readonly string[]): ReturnType<typeof synclog> =>
      synclog([...args, '--data', data], { cwd: root, timeoutMs: 180_000 })
    const imported = await run(['import', 'night1', '--tenant', 'district-a', '--format', 'json'])
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stderr).not.toContain('in use by another synclog process')
    const summary = JSON.parse(imported.stdout) as { syncId: string; status: string; counts: { user: { new: number } } }
    expect(summary).toMatchObject({ status: 'Completed', counts: { user: { new: night1.users.length } } })

    const log = await run(['log', '--sync', summary.syncId, '--format', 'json'])
    expect(log.code, log.stderr).toBe(0)
    expect(log.stderr).not.toContain('in use by another synclog process')
    const rows = jsonLines(log.stdout)
    expect(rows.length).toBeGreaterThan(night1.users.length)
    expect(new Set(rows.map((r) => r.syncId))).toEqual(new Set([summary.syncId]))

    const syncs = await run(['syncs', '--format', 'json'])
    expect(syncs.code, syncs.stderr).toBe(0)
    expect(JSON.parse(syncs.stdout)).toEqual([expect.objectContaining({ syncId: summary.syncId, status: 'Completed' })])
  }, 300_000)

  it('answers nothing to a connection that does not prove it holds the secret', async () => {
    const { port } = JSON.parse(readFileSync(join(data, 'synclog.endpoint'), 'utf8')) as { port: number }
    const request = `${JSON.stringify({ version: 1, argv: ['node', 'synclog', 'token', 'create', '--name', 'intruder'], cwd: root, env: {}, terminal: {} })}\n`
    // The request alone: closed at once, unanswered.
    expect(await rawExchange(port, request)).toBe('')
    // A nonce, then a made-up proof: the service's nonce and proof only, then closed; no command output.
    const answer = await rawExchange(port, `${'a'.repeat(64)}\n${'b'.repeat(64)}\n${request}`)
    expect(answer).toMatch(/^[0-9a-f]{128}\n$/)
    const tokens = await synclog(['token', 'list', '--data', data])
    expect(tokens.code, tokens.stderr).toBe(0)
    expect(tokens.stdout).not.toContain('intruder')
  }, 60_000)

  it('refuses an endpoint file that others can read, naming it', async () => {
    const file = join(data, 'synclog.endpoint')
    await chmod(file, 0o644)
    try {
      const run = await synclog(['syncs', '--data', data], { timeoutMs: 60_000 })
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('synclog.endpoint can be read or written by other users (mode 0644)')
    } finally {
      await chmod(file, 0o600)
    }
  }, 60_000)

  it('removes the endpoint file when it stops, and the CLI opens the directory itself again', async () => {
    expect(await service!.stop()).toBe(0)
    service = undefined
    expect(existsSync(join(data, 'synclog.endpoint'))).toBe(false)
    const after = await synclog(['syncs', '--data', data], { timeoutMs: 60_000 })
    expect(after.code, after.stderr).toBe(0)
  }, 60_000)
})
