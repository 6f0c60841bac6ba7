/**
 * `synclog run processor` and `synclog run projector` started as two processes on one host
 * with the same metrics port (both default to 9464): the first runs, the second stops at
 * once with one line that names the port and the flag to change, not a stack trace.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CLI, synclog, tempDir } from '../support/cli.js'
import { serviceEndpoints } from '../support/services.js'
import { freePort, waitFor } from '../support/stream-events.js'

const { brokers, registryUrl } = serviceEndpoints()
const children: ChildProcess[] = []
const dirs: string[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe('two stream roles on one metrics port', () => {
  it('the second says which port is taken and which flag picks another, in one line', async () => {
    const dir = await tempDir('run-ports')
    dirs.push(dir)
    const env = {
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      SYNCLOG_TOPIC_PREFIX: `run-ports-${process.pid}-${Date.now()}.`,
      SYNCLOG_TOPIC_PARTITIONS: '1',
    }
    const port = await freePort()
    const processor = spawn(
      process.execPath,
      [CLI, 'run', 'processor', '--http-port', String(port), '--group', `run-ports-${process.pid}`],
      {
        env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    children.push(processor)
    let processorLog = ''
    processor.stderr!.setEncoding('utf8').on('data', (d: string) => (processorLog += d))
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      90_000,
      () => `the processor never became ready:\n${processorLog}`,
    )

    const projector = await synclog(
      ['run', 'projector', '--http-port', String(port), '--group', `run-ports-${process.pid}`, '--data', join(dir, 'data')],
      { env, timeoutMs: 90_000 },
    )

    expect(projector.timedOut).toBeUndefined()
    expect(projector.code).not.toBe(0)
    const lines = projector.stderr.split('\n').filter((l) => l.trim() !== '')
    expect(lines, projector.stderr).toHaveLength(1)
    expect(lines[0]).toContain(`127.0.0.1:${port}`)
    expect(lines[0]).toContain('--http-port')
    expect(projector.stderr).not.toMatch(/^\s+at /m)
    // The first one is unharmed.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
    expect(processor.exitCode).toBeNull()
  })
})
