/**
 * Projectors writing through the service. chDB lets one process open a data directory, and
 * on a data directory a live `synclog serve` owns, `synclog run projector` (or `run all`)
 * sends its batches to that service instead of opening the store: one connection per
 * batch, the request line `STORE_WRITE_REQUEST`, one frame per sync-log event (Avro, the
 * topic's own schema, so the service decodes and checks each one), a write frame; the
 * service writes them on its write lane, as its own projector does, and answers with one
 * reply frame. Several projector processes (one consumer group) can so share one embedded
 * store, beside `serve` and its readers.
 *
 * Batches are idempotent (the tables collapse on the rows' identity), so a write cut off
 * anywhere is simply sent again. A service that is gone, stopping, or does not answer
 * within `WRITE_TIMEOUT_MS` (stopped, hung) is a retriable STORE_UNAVAILABLE: the projector
 * backs off and retries until it is back, holding its place in the topic.
 */
import { lstatSync } from 'node:fs'
import type { Socket } from 'node:net'
import type { Config } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import type { SyncLogEvent } from '../events/sync-log-event.js'
import { decodeSyncLogEvent, encodeSyncLogEvent } from '../events/avro.js'
import type { SyncLogStore } from '../clickhouse/sync-log-store.js'
import { openStore } from '../pipeline/open-store.js'
import { ERROR_CODES, SynclogError, isSynclogError, type ErrorCode } from '../errors.js'
import { terminalText } from '../export/terminal-text.js'
import { FRAME, FrameReader, frame } from './frames.js'
import { connectToService } from './forward.js'
import { serviceEndpointFilePath, serviceSocketPath } from './service-socket.js'

/** The request line of a store write (the CLI's commands send a JSON line instead). */
export const STORE_WRITE_REQUEST = 'synclog store-write 1'

/** What a projector writes to: the store itself, or the service that owns it. */
export type SyncLogWriter = Pick<SyncLogStore, 'write'>

/** Time a write has to be answered, from the connection on; below the projector's consumer session (20 s), so it heartbeats before it is dropped. */
export const WRITE_TIMEOUT_MS = 15_000
/** Time a projector has to send its whole batch once its request is read. */
const BODY_TIMEOUT_MS = 60_000
/** Largest event a projector sends (an Avro sync-log event is far smaller). */
const MAX_EVENT_BYTES = 4 * 1024 * 1024
/** Largest batch, in bytes and events (a projector batch is at most a few MiB). */
const MAX_WRITE_BYTES = 256 * 1024 * 1024
const MAX_WRITE_EVENTS = 1_000_000

interface Reply {
  readonly ok: boolean
  readonly code?: string
  readonly message?: string
}

const unavailable = (dataDir: string, why: string): SynclogError =>
  new SynclogError(
    'STORE_UNAVAILABLE',
    `the synclog service that owns ${dataDir} ${why}; the projector retries until it answers (start synclog serve --data ${dataDir} again if it stopped)`,
  )

/** The error a reply names: its code when synclog knows it, else a store failure. */
function replyError(reply: Reply): SynclogError {
  const code = reply.code !== undefined && Object.hasOwn(ERROR_CODES, reply.code) ? (reply.code as ErrorCode) : 'STORE_FAILED'
  return new SynclogError(code, `the synclog service could not write the batch: ${reply.message ?? 'no reason given'}`)
}

/** The projector's side: each `write` goes to the service that owns the data directory. */
export class ServiceStoreWriter implements SyncLogWriter {
  constructor(
    private readonly dataDir: string,
    private readonly timeoutMs = WRITE_TIMEOUT_MS,
  ) {}

  async write(events: readonly SyncLogEvent[]): Promise<void> {
    const body = events.map((e) => frame(FRAME.event, encodeSyncLogEvent(e)))
    let socket: Socket | undefined
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailable(this.dataDir, `did not answer within ${this.timeoutMs / 1000} s (stopped or hung)`)),
        this.timeoutMs,
      )
    })
    try {
      await Promise.race([
        (async () => {
          socket = await connectToService(this.dataDir)
          if (socket === undefined) throw unavailable(this.dataDir, 'does not answer (it stopped)')
          const replied = replyOf(socket, this.dataDir)
          socket.write(`${STORE_WRITE_REQUEST}\n`)
          for (const f of body) socket.write(f)
          socket.write(frame(FRAME.write, ''))
          const reply = await replied
          if (!reply.ok) throw replyError(reply)
        })(),
        timedOut,
      ])
    } finally {
      clearTimeout(timer)
      socket?.destroy()
    }
  }
}

function parseReply(payload: Buffer): Reply {
  try {
    const r = JSON.parse(payload.toString('utf8')) as Partial<Reply> | null
    if (r !== null && typeof r === 'object' && typeof r.ok === 'boolean')
      return { ok: r.ok, code: String(r.code ?? ''), message: String(r.message ?? '') }
  } catch {
    // answered below
  }
  return { ok: false, code: 'STORE_FAILED', message: 'an unreadable reply; use the synclog of the running service' }
}

/** The service's one answer on this connection. */
function replyOf(socket: Socket, dataDir: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader()
    let said = ''
    socket.on('data', (chunk: Buffer) => {
      for (const { kind, payload } of reader.push(chunk)) {
        if (kind === FRAME.reply) resolve(parseReply(payload))
        else if (kind === FRAME.stderr) said += payload.toString('utf8')
        // The service refused the connection before reading it (stopping, too busy): retriable.
        else if (kind === FRAME.exit)
          reject(unavailable(dataDir, `refused the write (${said.replace(/^synclog: /, '').trim() || 'no reason given'})`))
      }
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => reject(unavailable(dataDir, 'went away during the write')))
  })
}

/**
 * The service's side of one connection whose request line was `STORE_WRITE_REQUEST`: reads
 * the events (`rest`: bytes already read after the line), writes them, replies. Never throws.
 */
export async function serveStoreWrite(socket: Socket, rest: Buffer, store: SyncLogWriter, logger: Logger): Promise<void> {
  const answer = (reply: Reply): void => {
    if (!socket.destroyed) socket.end(frame(FRAME.reply, JSON.stringify(reply)))
  }
  let events: SyncLogEvent[]
  try {
    events = await readBatch(socket, rest)
  } catch (e) {
    // A projector of another version, or not a projector: refused whole, nothing written.
    const message = isSynclogError(e) ? e.message : 'the write was cut off'
    logger.warn({ reason: message }, 'a store write sent to this service was refused')
    answer({ ok: false, code: isSynclogError(e) ? e.code : 'STORE_UNAVAILABLE', message })
    return
  }
  try {
    await store.write(events)
    answer({ ok: true })
  } catch (e) {
    const error = isSynclogError(e) ? e : new SynclogError('STORE_FAILED', (e as Error).message)
    logger.warn({ err: error, events: events.length }, "a projector's write through this service failed")
    answer({ ok: false, code: error.code, message: terminalText(error.message) })
  }
}

/** The batch's events, each decoded and checked against the sync-log schema, within the limits. */
function readBatch(socket: Socket, rest: Buffer): Promise<SyncLogEvent[]> {
  return new Promise((resolve, reject) => {
    const reader = new FrameReader(MAX_EVENT_BYTES)
    const events: SyncLogEvent[] = []
    let bytes = 0
    const timer = setTimeout(
      () => finish(new SynclogError('INPUT_LIMIT_EXCEEDED', `the batch did not arrive within ${BODY_TIMEOUT_MS / 1000} s`)),
      BODY_TIMEOUT_MS,
    )
    const finish = (error: SynclogError | undefined): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', onClose)
      if (error === undefined) resolve(events)
      else reject(error)
    }
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length
      try {
        if (bytes > MAX_WRITE_BYTES) throw new SynclogError('INPUT_LIMIT_EXCEEDED', `a batch of more than ${MAX_WRITE_BYTES} bytes`)
        for (const { kind, payload } of reader.push(chunk)) {
          if (kind === FRAME.write) return finish(undefined)
          if (kind !== FRAME.event)
            throw new SynclogError('USAGE', 'not a store write of this version; use the synclog of the running service')
          if (events.length >= MAX_WRITE_EVENTS)
            throw new SynclogError('INPUT_LIMIT_EXCEEDED', `a batch of more than ${MAX_WRITE_EVENTS} events`)
          events.push(decodeSyncLogEvent(payload))
        }
      } catch (e) {
        finish(
          isSynclogError(e)
            ? e
            : new SynclogError('DECODE_FAILED', `an event of the batch is not a sync-log event: ${(e as Error).message}`),
        )
      }
    }
    const onClose = (): void => finish(new SynclogError('STORE_UNAVAILABLE', 'the projector went away before its batch was complete'))
    socket.on('data', onData)
    socket.on('close', onClose)
    if (rest.length > 0) onData(rest)
  })
}

export interface ProjectorStore {
  readonly store: SyncLogWriter
  /** Where the writes go, for the log. */
  readonly via: 'service' | 'store'
  close(): Promise<void>
}

/**
 * Where `run projector|all` writes: on an embedded data directory a service owns, through
 * that service; else into the store it opens itself, as before. A service that does not
 * answer now but left its socket (or endpoint file) behind is taken as the owner coming
 * back (killed, restarting, hung): opening the store here would keep it from starting
 * again, so the projector writes through it and retries until it answers.
 */
export async function openProjectorStore(config: Config, logger: Logger, command: string): Promise<ProjectorStore> {
  const { dataDir } = config
  if (config.clickhouse.url === undefined) {
    const probe = await connectToService(dataDir)
    probe?.destroy()
    const leftBehind =
      probe === undefined
        ? [serviceSocketPath(dataDir), serviceEndpointFilePath(dataDir)].find((p) => lstatSync(p, { throwIfNoEntry: false }) !== undefined)
        : undefined
    if (probe !== undefined || leftBehind !== undefined) {
      const writer = new ServiceStoreWriter(dataDir)
      try {
        await writer.write([])
        logger.info({ dataDir }, 'a synclog service owns the data directory: the projector writes through it')
      } catch (e) {
        if (!isSynclogError(e) || !e.retriable) throw e
        logger.warn(
          { err: e, left: leftBehind ?? null },
          `the synclog service that owns the data directory does not answer: the projector writes through it once it does${
            leftBehind === undefined
              ? ''
              : ` (if no service will run there again, remove ${leftBehind} and the projector opens the store itself)`
          }`,
        )
      }
      return { store: writer, via: 'service', close: async () => {} }
    }
  }
  const opened = await openStore(config, logger, command, 'project')
  return { store: opened.store, via: 'store', close: () => opened.close() }
}
