/**
 * The service side of forwarded CLI commands: `synclog serve` listens on a Unix socket in
 * its data directory (owner-only), runs each command it receives with the same program
 * and handlers as a CLI process would, over its shared store, and sends back what the
 * command printed and its exit code (frames.ts).
 *
 * Stopping drains: no new command is accepted, commands in flight finish; after the grace
 * time the ones that only read are cut (their CLI says so), while a write in progress (an
 * import) always completes, so nothing is half-applied.
 */
import { chmod, lstat, rm } from 'node:fs/promises'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { Writable } from 'node:stream'
import { CommandOutput } from '../cli/command-output.js'
import { SynclogError, isSynclogError } from '../errors.js'
import { terminalText } from '../export/terminal-text.js'
import type { Logger } from '../logging/logger.js'
import { FRAME, MAX_REQUEST_BYTES, STDOUT_CLOSED, frame, parseRequest, type ForwardedRequest } from './frames.js'
import { runInInvocation, type Invocation } from './invocation-scope.js'
import type { SharedStore } from './shared-store.js'
import { serviceSocketPath, SOCKET_PATH_MAX } from './service-socket.js'

/** Runs one command line (argv as process.argv) and gives its exit code. */
export type RunCommand = (argv: readonly string[]) => Promise<number>

/** Commands running at once; more are refused with a message (the socket is the owner's only, this bounds mistakes). */
const MAX_RUNNING = 64
/** Time a client has to send its request line. */
const REQUEST_TIMEOUT_MS = 10_000

interface Running {
  readonly socket: Socket
  readonly invocation: Invocation
  readonly done: Promise<void>
}

export class CommandService {
  private readonly running = new Set<Running>()
  private stopping = false

  private constructor(private readonly server: Server, readonly path: string, private readonly shared: SharedStore, private readonly run: RunCommand, private readonly logger: Logger) {}

  /** Listens on `<data>/synclog.sock`; undefined (with a warning) where a socket cannot be made there. */
  static async listen(shared: SharedStore, run: RunCommand, logger: Logger): Promise<CommandService | undefined> {
    const path = serviceSocketPath(shared.dataDir)
    if (Buffer.byteLength(path) > SOCKET_PATH_MAX) {
      logger.warn({ path }, `the data directory's path is too long for a local socket (at most ${SOCKET_PATH_MAX} bytes): CLI commands on it cannot reach this service and stop at its lock; use a shorter --data`)
      return undefined
    }
    await removeStaleSocket(path)
    const server = createServer()
    const service = new CommandService(server, path, shared, run, logger)
    server.on('connection', (socket: Socket) => service.accept(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      // The socket is made with owner-only permissions (no moment where others could connect), and kept so.
      const umask = process.umask(0o177)
      try {
        server.listen(path, () => resolve())
      } finally {
        process.umask(umask)
      }
    })
    await chmod(path, 0o600)
    server.on('error', (e) => logger.error({ err: e }, 'command socket error'))
    logger.debug({ path }, 'CLI commands on this data directory run in this service')
    return service
  }

  private accept(socket: Socket): void {
    socket.on('error', () => socket.destroy())
    if (this.stopping || this.running.size >= MAX_RUNNING) {
      const why = this.stopping ? 'the synclog service is stopping; run the command again when it is back (or without it)'
        : `the synclog service runs ${MAX_RUNNING} commands already; run it again in a moment`
      socket.end(Buffer.concat([frame(FRAME.stderr, `synclog: ${why}\n`), frame(FRAME.exit, '1')]))
      return
    }
    let buffered = Buffer.alloc(0)
    const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS)
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      const end = buffered.indexOf(0x0a)
      if (end < 0) {
        if (buffered.length > MAX_REQUEST_BYTES) socket.destroy()
        return
      }
      clearTimeout(timer)
      socket.off('data', onData)
      const line = buffered.subarray(0, end).toString('utf8')
      const rest = buffered.subarray(end + 1)
      let request: ForwardedRequest
      try {
        request = parseRequest(line)
      } catch (e) {
        const message = isSynclogError(e) ? e.message : 'unreadable request'
        socket.end(Buffer.concat([frame(FRAME.stderr, `synclog: ${message}\n`), frame(FRAME.exit, '1')]))
        return
      }
      this.start(socket, request, rest)
    }
    socket.on('data', onData)
  }

  private start(socket: Socket, request: ForwardedRequest, rest: Buffer): void {
    const toClient = (kind: typeof FRAME.stdout | typeof FRAME.stderr): Writable => new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (socket.destroyed) return done(Object.assign(new Error('the client went away'), { code: 'EPIPE' }))
        // Called once the frame is handed to the socket: a slow reader holds the command back.
        socket.write(frame(kind, chunk), (e) => done(e ?? null))
      },
    })
    const stdoutFrames = toClient(FRAME.stdout)
    const stderrFrames = toClient(FRAME.stderr)
    const invocation: Invocation = {
      cwd: request.cwd, env: request.env, terminal: request.terminal, stdout: quiet(new CommandOutput(stdoutFrames)), stderr: quiet(new CommandOutput(stderrFrames)), shared: this.shared,
    }
    // The CLI's reader went away (`| head`): its output ends here, quietly, as in a process of its own.
    const onNotice = (chunk: Buffer): void => {
      if (chunk.toString('utf8').includes(STDOUT_CLOSED)) stdoutFrames.destroy()
    }
    if (rest.length > 0) onNotice(rest)
    socket.on('data', onNotice)
    socket.on('close', () => {
      stdoutFrames.destroy()
      stderrFrames.destroy()
    })
    const done = (async () => {
      const code = await runInInvocation(invocation, () => this.run(request.argv))
      await Promise.all([flush(invocation.stdout), flush(invocation.stderr)])
      if (!socket.destroyed) socket.end(frame(FRAME.exit, String(code)))
    })().catch((e: unknown) => {
      this.logger.error({ err: e }, 'forwarded command failed')
      if (!socket.destroyed) socket.end(Buffer.concat([frame(FRAME.stderr, `synclog: ${terminalText((e as Error).message)}\n`), frame(FRAME.exit, '1')]))
    })
    const entry: Running = { socket, invocation, done }
    this.running.add(entry)
    void done.finally(() => this.running.delete(entry))
  }

  /**
   * Stops accepting commands and waits for those in flight. After `graceMs` (or at once
   * when `cut` resolves first: a second signal), the ones that only read are cut off.
   */
  async close(graceMs: number, cut: Promise<unknown>): Promise<void> {
    this.stopping = true
    this.shared.refuseNewWrites()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    await rm(this.path, { force: true })
    if (this.running.size === 0) return
    this.logger.info({ commands: this.running.size }, 'waiting for CLI commands in flight')
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))
    const all = (): Promise<unknown> => Promise.all([...this.running].map((r) => r.done))
    await Promise.race([all(), graceOver, cut])
    clearTimeout(timer)
    for (const r of this.running) if (!r.invocation.writing) r.socket.destroy()
    await all()
  }
}

/** An output whose errors (a reader gone) never reach the service as an unhandled 'error'. */
function quiet(out: CommandOutput): CommandOutput {
  out.on('error', () => {})
  return out
}

function flush(out: CommandOutput): Promise<void> {
  return new Promise((resolve) => out.end(() => resolve()))
}

/** A socket file left by a service that died; one that still answers belongs to a live service. */
async function removeStaleSocket(path: string): Promise<void> {
  const found = await lstat(path).catch(() => undefined)
  if (found === undefined) return
  if (!found.isSocket()) {
    throw new SynclogError('PATH_UNUSABLE', `${terminalText(path)} exists and is not a socket; remove it (synclog serve makes its socket there)`)
  }
  const answers = await new Promise<boolean>((resolve) => {
    const probe = connect(path)
    const timer = setTimeout(() => { probe.destroy(); resolve(false) }, 2_000)
    probe.once('connect', () => { clearTimeout(timer); probe.destroy(); resolve(true) })
    probe.once('error', () => { clearTimeout(timer); resolve(false) })
  })
  if (answers) throw new SynclogError('DATA_DIR_LOCKED', `another synclog service answers on ${terminalText(path)}; stop it first`)
  await rm(path, { force: true })
}
