/**
 * The local protocol between the CLI and `synclog serve` (a Unix socket in the data
 * directory). The CLI sends one JSON line, the request; the service answers with frames:
 * a kind byte, a 4-byte big-endian length, the payload. Output frames carry bytes exactly
 * as the command wrote them; the exit frame carries the exit code as decimal text and is
 * the last one. The CLI may then send one line, `stdout-closed`, when its reader went away.
 *
 * A projector writing through the service sends another request line instead
 * (store-writes.ts): then the frames go both ways, events and a write from the projector,
 * one reply from the service.
 */
import type { Socket } from 'node:net'
import { isAbsolute } from 'node:path'
import { SynclogError } from '../errors.js'

export const FRAME = { stdout: 1, stderr: 2, exit: 3, event: 4, write: 5, reply: 6 } as const
export type FrameKind = (typeof FRAME)[keyof typeof FRAME]

/** The CLI's notice that its standard output lost its reader (`| head`). */
export const STDOUT_CLOSED = 'stdout-closed'

/** Longest request line the service reads (argv and environment are far smaller). */
export const MAX_REQUEST_BYTES = 1024 * 1024

export interface ForwardedRequest {
  readonly version: 1
  readonly argv: readonly string[]
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** Whether the CLI's stdout and stderr are terminals. */
  readonly terminal: { readonly stdout: boolean; readonly stderr: boolean }
}

/** The environment variables a forwarded command may read (config reads no others; TZ is the caller's system time zone). */
export const FORWARDED_ENV = /^(?:(?:SYNCLOG|CLICKHOUSE)_[A-Z0-9_]+|TZ)$/

/** The commands that work on the store, and so go to a running service. */
const FORWARDED = new Set([
  'import',
  'ingest',
  'syncs',
  'summary',
  'log',
  'drilldown',
  'history',
  'roster',
  'compare',
  'daily',
  'report',
  'approve',
  'reject',
  'export',
  'token',
  'sql',
  'alerts',
])

/** The program's options that take a value (anything before the command name). */
const GLOBAL_WITH_VALUE = new Set(['--data', '--clickhouse-url', '--log-level', '--config', '--brokers', '--registry'])

const HELP = new Set(['--help', '-h', '--version', '-V'])

/** The command named on the line (`synclog [global options] <command> ...`), unless help or the version is asked for. */
function commandOf(args: readonly string[]): string | undefined {
  if (args.some((a) => HELP.has(a))) return undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--') return undefined
    if (!a.startsWith('-')) return a
    if (GLOBAL_WITH_VALUE.has(a)) i++
  }
  return undefined
}

/** Whether this command line (as process.argv) names a command that works on the store, and so runs in a service. */
export function forwardedCommand(argv: readonly string[]): boolean {
  const command = commandOf(argv.slice(2))
  return command !== undefined && FORWARDED.has(command)
}

export function frame(kind: FrameKind, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload
  const head = Buffer.alloc(5)
  head.writeUInt8(kind, 0)
  head.writeUInt32BE(body.length, 1)
  return Buffer.concat([head, body])
}

/** Splits a byte stream into frames as they complete. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0)

  /** `maxPayload`: a frame announcing more is refused before its bytes are held (a peer that is not trusted). */
  constructor(private readonly maxPayload = Number.POSITIVE_INFINITY) {}

  /** The frames this chunk completes, in order. */
  push(chunk: Buffer): { kind: FrameKind; payload: Buffer }[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    const complete: { kind: FrameKind; payload: Buffer }[] = []
    while (this.pending.length >= 5) {
      const length = this.pending.readUInt32BE(1)
      if (length > this.maxPayload)
        throw new SynclogError('INPUT_LIMIT_EXCEEDED', `a frame of ${length} bytes, more than the ${this.maxPayload} allowed`)
      if (this.pending.length < 5 + length) break
      complete.push({ kind: this.pending.readUInt8(0) as FrameKind, payload: this.pending.subarray(5, 5 + length) })
      this.pending = this.pending.subarray(5 + length)
    }
    return complete
  }
}

/** The request line, checked: anything else is refused before a command runs. */
export function parseRequest(line: string): ForwardedRequest {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new SynclogError('USAGE', 'the request is not JSON')
  }
  const r = value as Partial<ForwardedRequest> | null
  const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((s) => typeof s === 'string')
  if (
    r === null ||
    typeof r !== 'object' ||
    r.version !== 1 ||
    !strings(r.argv) ||
    typeof r.cwd !== 'string' ||
    !isAbsolute(r.cwd) ||
    typeof r.env !== 'object' ||
    r.env === null
  ) {
    throw new SynclogError('USAGE', 'the request is not a synclog command of this version; use the synclog of the running service')
  }
  const env = Object.fromEntries(Object.entries(r.env).filter(([k, v]) => FORWARDED_ENV.test(k) && typeof v === 'string')) as Record<
    string,
    string
  >
  // Only the commands a CLI sends: never `serve` or `demo` inside the service.
  if (!forwardedCommand(r.argv))
    throw new SynclogError('USAGE', 'this command does not run in the service; run it with the service stopped')
  const terminal = { stdout: r.terminal?.stdout === true, stderr: r.terminal?.stderr === true }
  return { version: 1, argv: r.argv, cwd: r.cwd, env, terminal }
}

/**
 * The lines a peer sends before the frames (the handshake, the request): each one read whole,
 * at most `max` bytes, and what arrives after the last one kept for whoever reads on.
 */
export class SocketLines {
  private buffered: Buffer = Buffer.alloc(0)
  private closed = false
  private waiting: { readonly max: number; readonly resolve: (line: string) => void; readonly reject: (e: Error) => void } | undefined
  private readonly onData = (chunk: Buffer): void => {
    this.buffered = Buffer.concat([this.buffered, chunk])
    // A peer that sends on without reading its answer is cut before it fills the memory.
    if (this.buffered.length > MAX_REQUEST_BYTES + 1024) this.socket.destroy()
    this.check()
  }
  private readonly onClose = (): void => {
    this.closed = true
    this.check()
  }

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData)
    socket.on('close', this.onClose)
  }

  /** The next line, without its newline; rejects when more than `max` bytes come without one, or the peer goes away. */
  next(max: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting = { max, resolve, reject }
      this.check()
    })
  }

  /** Stops reading lines; gives the bytes received after the last one. */
  detach(): Buffer {
    this.socket.off('data', this.onData)
    this.socket.off('close', this.onClose)
    return this.buffered
  }

  private check(): void {
    const waiting = this.waiting
    if (waiting === undefined) return
    const end = this.buffered.indexOf(0x0a)
    if (end >= 0 && end <= waiting.max) {
      this.waiting = undefined
      const line = this.buffered.subarray(0, end).toString('utf8')
      this.buffered = this.buffered.subarray(end + 1)
      waiting.resolve(line)
    } else if (end > waiting.max || (end < 0 && this.buffered.length > waiting.max) || this.closed) {
      this.waiting = undefined
      waiting.reject(new Error(this.closed ? 'the peer went away' : 'a line longer than allowed'))
    }
  }
}
