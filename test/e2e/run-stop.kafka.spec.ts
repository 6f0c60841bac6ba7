/**
 * `npx synclog run all`, as a district's supervisor starts it: a SIGTERM to npx (which
 * never reaches node through npm and its shell) stops the stream services all the same,
 * and gives back their metrics port and the data directory.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI, alive, tempDir } from '../support/cli.js'
import { serviceEndpoints } from '../support/services.js'
import { freePort, waitFor } from '../support/stream-events.js'

const { brokers, registryUrl } = serviceEndpoints()
let root: string | undefined

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

describe('synclog run all under npx', () => {
  it('stops, releasing its port and the data directory, when npx gets SIGTERM', async () => {
    root = await tempDir('run-stop')
    // A project with synclog installed: `npx synclog` runs node_modules/.bin/synclog through npm and a shell.
    const data = join(root, 'data')
    await mkdir(join(root, 'node_modules', '.bin'), { recursive: true })
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'district-stream', version: '1.0.0', private: true }))
    await symlink(CLI, join(root, 'node_modules', '.bin', 'synclog'))
    const port = await freePort()
    const env = {
      ...process.env,
      SYNCLOG_LOG_LEVEL: 'warn',
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      SYNCLOG_TOPIC_PREFIX: `e2e-run-stop-${process.pid}-${Date.now()}.`,
      SYNCLOG_TOPIC_PARTITIONS: '1',
    }
    const npx = spawn(
      'npx',
      ['--offline', '--no', 'synclog', 'run', 'all', '--http-port', String(port), '--group', `e2e-run-stop-${process.pid}`, '--data', data],
      { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let err = ''
    npx.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    let pid: number | undefined
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
        90_000,
        () => `synclog run all under npx never became ready: ${err}`,
      )
      pid = (JSON.parse(readFileSync(join(data, 'synclog.lock'), 'utf8')) as { pid: number }).pid
      expect(pid).not.toBe(npx.pid)

      npx.kill('SIGTERM')
      await waitFor(
        async () => !alive(pid!),
        60_000,
        () => `synclog run all (pid ${pid}) kept running after npx was stopped: ${err}`,
      )
      expect(existsSync(join(data, 'synclog.lock'))).toBe(false)
      expect(
        await fetch(`http://127.0.0.1:${port}/healthz`).then(
          () => 'answered',
          () => 'refused',
        ),
      ).toBe('refused')
    } finally {
      if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL')
      if (npx.exitCode === null && npx.signalCode === null) npx.kill('SIGKILL')
    }
  })
})
