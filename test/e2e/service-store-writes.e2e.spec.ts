/**
 * The service's store-write endpoint (src/service/store-writes.ts) is reached over the same
 * owner-only socket as CLI commands, and reads nothing it has not checked: a batch over the
 * limits or with an event that is not a sync-log event is refused whole, with a reason, and
 * nothing of it is written; the service goes on serving.
 */
import { connect, type Socket } from 'node:net'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FRAME, FrameReader, frame } from '../../src/service/frames.js'
import { STORE_WRITE_REQUEST } from '../../src/service/store-writes.js'
import { serviceSocketPath } from '../../src/service/service-socket.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'
import { startServe, type RunningServe } from '../support/browser.js'

const serves: RunningServe[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const s of serves.splice(0)) await s.stop(10_000)
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

/** Sends the request line and these bytes; resolves with the service's reply (or what it said before closing). */
function storeWrite(socketPath: string, body: Buffer): Promise<{ ok: boolean; code?: string; message?: string }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ path: socketPath })
    const reader = new FrameReader()
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no reply within 20 s'))
    }, 20_000)
    socket.on('data', (chunk: Buffer) => {
      for (const { kind, payload } of reader.push(chunk)) {
        if (kind !== FRAME.reply) continue
        clearTimeout(timer)
        resolve(JSON.parse(payload.toString('utf8')) as { ok: boolean; code?: string; message?: string })
        socket.destroy()
      }
    })
    socket.on('error', () => undefined)
    socket.on('connect', () => {
      socket.write(`${STORE_WRITE_REQUEST}\n`)
      socket.write(body)
    })
  })
}

describe('store writes sent to the service', () => {
  it('refuses a batch with an event that is not a sync-log event, or a frame over the limit, and writes nothing of it', async () => {
    const dir = await tempDir('store-writes')
    dirs.push(dir)
    const data = join(dir, 'data')
    const serve = await startServe(data)
    serves.push(serve)
    const socketPath = serviceSocketPath(data)

    const garbage = await storeWrite(
      socketPath,
      Buffer.concat([frame(FRAME.event, Buffer.from('not avro at all')), frame(FRAME.write, '')]),
    )
    expect(garbage.ok).toBe(false)
    expect(garbage.message).toMatch(/sync-log event|decode/i)

    const head = Buffer.alloc(5)
    head.writeUInt8(FRAME.event, 0)
    head.writeUInt32BE(512 * 1024 * 1024, 1)
    const huge = await storeWrite(socketPath, head)
    expect(huge).toMatchObject({ ok: false, code: 'INPUT_LIMIT_EXCEEDED' })

    const empty = await storeWrite(socketPath, frame(FRAME.write, ''))
    expect(empty).toEqual({ ok: true })

    const log = await synclog(['log', '--format', 'json', '--include-rejected', '--from', '2000-01-01', '--data', data])
    expect(log.code, log.stderr).toBe(0)
    expect(jsonLines(log.stdout)).toEqual([])
  }, 120_000)
})
