/**
 * The service side of forwarded CLI commands: `synclog serve` listens on a Unix socket in
 * its data directory (owner-only), or, where the directory's path is too long for one, on a
 * loopback port named with a secret in an owner-only file there (endpoint-file.ts); it runs
 * each command it receives with the same program and handlers as a CLI process would, over
 * its shared store, and sends back what the command printed and its exit code (frames.ts).
 * A projector of another process sends its batches the same way, and they are written on
 * the store's write lane (store-writes.ts).
 *
 * A command that fails with an error nothing handled (an exception thrown from a callback, a
 * rejection nobody awaited) fails alone: its CLI gets the one line and exit code 1 that a
 * process of its own gives, and the service goes on. Only a command in the middle of a
 * write cannot fail alone (its write may be half done, and still running): the service
 * stops then, as a process of its own would, and re-running the command resumes it.
 *
 * Stopping drains: no new command is accepted, commands in flight finish; after the grace
 * time the ones that only read are cut (their CLI says so), while a write in progress (an
 * import) always completes, so nothing is half-applied.
 */
import { chmod, lstat, rm } from 'node:fs/promises'
import { createServer, connect, type AddressInfo, type NetConnectOpts, type Server, type Socket } from 'node:net'
import { Writable } from 'node:stream'
import { CommandOutput } from '../cli/command-output.js'
import { SynclogError, isSynclogError } from '../errors.js'
import { terminalText } from '../export/terminal-text.js'
import type { Logger } from '../logging/logger.js'
import { containUnhandled, unexpectedError } from '../process/fatal.js'
import { FRAME, MAX_REQUEST_BYTES, STDOUT_CLOSED, SocketLines, frame, parseRequest, type ForwardedRequest } from './frames.js'
import { answerHandshake, newSecret, offerHandshake, readEndpointFile, writeEndpointFile } from './endpoint-file.js'
import { currentInvocation, runInInvocation, type Invocation } from './invocation-scope.js'
import type { SharedStore } from './shared-store.js'
import { serviceEndpointFilePath, serviceSocketPath, socketPathFits } from './service-socket.js'
import { STORE_WRITE_REQUEST, serveStoreWrite } from './store-writes.js'

/** Runs one command line (argv as process.argv) and gives its exit code. */
export type RunCommand = (argv: readonly string[]) => Promise<number>

/** Commands running at once; more are refused with a message (the socket is the owner's only, this bounds mistakes). */
const MAX_RUNNING = 64
/** Time a client has to send its request line (and, at an address, to prove it holds the secret first). */
const REQUEST_TIMEOUT_MS = 10_000
/** The address the service listens on when its data directory's path is too long for a socket. */
const LOOPBACK = '127.0.0.1'

interface Running {
  readonly socket: Socket
  readonly invocation: Invocation
  readonly done: Promise<void>
  /** Ends the command at once with an error nothing handled: its CLI gets one line and exit code 1. */
  readonly fail: (error: unknown) => void
  /** Whether the command has ended (completed or failed): its CLI has its exit code. */
  readonly state: { ended: boolean }
}

export class CommandService {
  private readonly running = new Set<Running>()
  /** Every command this service ran, while anything of it is still reachable: an error nothing handled finds its command here. */
  private readonly invocations = new WeakMap<Invocation, Running>()
  /** Projectors' batches being written (store-writes.ts); a stopping service finishes them. */
  private readonly storeWrites = new Set<Promise<void>>()
  private stopping = false

  /** `path`: the socket, or the endpoint file (removed on close); `secret`: what a client proves it holds, at an address. */
  private constructor(
    private readonly server: Server,
    readonly path: string,
    private readonly secret: Buffer | undefined,
    private readonly shared: SharedStore,
    private readonly run: RunCommand,
    private readonly logger: Logger,
  ) {}

  /**
   * Listens on `<data>/synclog.sock`, or, when that path is too long for a socket, on a
   * loopback port written with a new secret to `<data>/synclog.endpoint`.
   */
  static async listen(shared: SharedStore, run: RunCommand, logger: Logger): Promise<CommandService> {
    const socketPath = serviceSocketPath(shared.dataDir)
    const server = createServer()
    let service: CommandService
    if (socketPathFits(socketPath)) {
      await removeStaleSocket(socketPath)
      service = new CommandService(server, socketPath, undefined, shared, run, logger)
      // The socket is made with owner-only permissions (no moment where others could connect), and kept so.
      await listening(server, () => {
        const umask = process.umask(0o177)
        try {
          server.listen(socketPath)
        } finally {
          process.umask(umask)
        }
      })
      await chmod(socketPath, 0o600)
    } else {
      const file = serviceEndpointFilePath(shared.dataDir)
      await removeStaleEndpoint(file)
      const secret = newSecret()
      service = new CommandService(server, file, secret, shared, run, logger)
      await listening(server, () => server.listen({ host: LOOPBACK, port: 0 }))
      try {
        await writeEndpointFile(file, { host: LOOPBACK, port: (server.address() as AddressInfo).port, secret })
      } catch (e) {
        server.close()
        throw e
      }
      logger.debug(
        { file },
        `the data directory's path is too long for a socket: CLI commands reach this service on ${LOOPBACK}, named with a secret in its endpoint file`,
      )
    }
    server.on('connection', (socket: Socket) => service.accept(socket))
    server.on('error', (e) => logger.error({ err: e }, 'command socket error'))
    containUnhandled((e) => service.contain(e))
    logger.debug({ path: service.path }, 'CLI commands on this data directory run in this service')
    return service
  }

  private accept(socket: Socket): void {
    socket.on('error', () => socket.destroy())
    const lines = new SocketLines(socket)
    const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS)
    void (async () => {
      // At an address anyone local can reach: nothing is read or answered before the client proves it holds the secret.
      if (this.secret !== undefined && !(await answerHandshake(socket, lines, this.secret))) {
        socket.destroy()
        return
      }
      if (this.stopping || this.running.size >= MAX_RUNNING) {
        const why = this.stopping
          ? 'the synclog service is stopping; run the command again when it is back (or without it)'
          : `the synclog service runs ${MAX_RUNNING} commands already; run it again in a moment`
        socket.end(Buffer.concat([frame(FRAME.stderr, `synclog: ${why}\n`), frame(FRAME.exit, '1')]))
        return
      }
      const line = await lines.next(MAX_REQUEST_BYTES)
      clearTimeout(timer)
      if (line === STORE_WRITE_REQUEST) {
        const writing = serveStoreWrite(socket, lines.detach(), this.shared.store, this.logger)
        this.storeWrites.add(writing)
        void writing.finally(() => this.storeWrites.delete(writing))
        return
      }
      let request: ForwardedRequest
      try {
        request = parseRequest(line)
      } catch (e) {
        const message = isSynclogError(e) ? e.message : 'unreadable request'
        socket.end(Buffer.concat([frame(FRAME.stderr, `synclog: ${message}\n`), frame(FRAME.exit, '1')]))
        return
      }
      this.start(socket, request, lines.detach())
    })()
      .catch(() => socket.destroy())
      .finally(() => clearTimeout(timer))
  }

  /**
   * An error nothing handled, thrown or rejected by code that runs for one of this service's
   * commands (its async context tells which): that command fails alone and the service goes
   * on; false (the process ends) for any other, and for a command in the middle of a write.
   */
  private contain(error: unknown): boolean {
    const invocation = currentInvocation()
    const entry = invocation === undefined ? undefined : this.invocations.get(invocation)
    if (invocation === undefined || entry === undefined) return false
    if (entry.state.ended) {
      // Left-over work of a command that has ended (its CLI has its answer): nothing more to fail.
      this.logger.error({ err: error }, 'error nothing handled, from a CLI command that had already ended')
      return true
    }
    if (invocation.writing === true) {
      this.logger.error(
        { err: error },
        'error nothing handled in a CLI command in the middle of a write: the service stops, as its write may be half done',
      )
      if (!entry.socket.destroyed) {
        entry.socket.end(
          Buffer.concat([
            frame(
              FRAME.stderr,
              `synclog: ${terminalText(unexpectedError(error))}; the synclog service stops, as this write may be half done: ` +
                'run the command again (an import resumes under its first sync id)\n',
            ),
            frame(FRAME.exit, '1'),
          ]),
        )
      }
      return false
    }
    entry.fail(error)
    return true
  }

  private start(socket: Socket, request: ForwardedRequest, rest: Buffer): void {
    const toClient = (kind: typeof FRAME.stdout | typeof FRAME.stderr): Writable =>
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          if (socket.destroyed) return done(Object.assign(new Error('the client went away'), { code: 'EPIPE' }))
          // Called once the frame is handed to the socket: a slow reader holds the command back.
          socket.write(frame(kind, chunk), (e) => done(e ?? null))
        },
      })
    const stdoutFrames = toClient(FRAME.stdout)
    const stderrFrames = toClient(FRAME.stderr)
    const invocation: Invocation = {
      cwd: request.cwd,
      env: request.env,
      terminal: request.terminal,
      stdout: quiet(new CommandOutput(stdoutFrames)),
      stderr: quiet(new CommandOutput(stderrFrames)),
      shared: this.shared,
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
    const state = { ended: false }
    let failed: () => void = () => {}
    const completed = (async () => {
      const code = await runInInvocation(invocation, () => this.run(request.argv))
      await Promise.all([flush(invocation.stdout), flush(invocation.stderr)])
      if (state.ended) return
      state.ended = true
      if (!socket.destroyed) socket.end(frame(FRAME.exit, String(code)))
    })().catch((e: unknown) => {
      if (state.ended) return
      state.ended = true
      this.logger.error({ err: e }, 'forwarded command failed')
      if (!socket.destroyed)
        socket.end(Buffer.concat([frame(FRAME.stderr, `synclog: ${terminalText((e as Error).message)}\n`), frame(FRAME.exit, '1')]))
    })
    const fail = (error: unknown): void => {
      if (state.ended) return
      state.ended = true
      invocation.failed = true
      this.logger.error({ err: error, command: request.argv[2] }, 'a CLI command failed with an error nothing handled; the service goes on')
      stdoutFrames.destroy()
      stderrFrames.destroy()
      if (!socket.destroyed)
        socket.end(Buffer.concat([frame(FRAME.stderr, `synclog: ${terminalText(unexpectedError(error))}\n`), frame(FRAME.exit, '1')]))
      failed()
    }
    // Its own work may never settle (the callback that would have ended it threw): the command is over when it failed.
    const done = Promise.race([completed, new Promise<void>((resolve) => (failed = resolve))])
    const entry: Running = { socket, invocation, done, fail, state }
    this.running.add(entry)
    this.invocations.set(invocation, entry)
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
    await Promise.all(this.storeWrites)
    if (this.running.size > 0) {
      this.logger.info({ commands: this.running.size }, 'waiting for CLI commands in flight')
      let timer: NodeJS.Timeout | undefined
      const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))
      const all = (): Promise<unknown> => Promise.all([...this.running].map((r) => r.done))
      await Promise.race([all(), graceOver, cut])
      clearTimeout(timer)
      for (const r of this.running) if (!r.invocation.writing) r.socket.destroy()
      await all()
    }
    containUnhandled(undefined)
  }
}

/** Calls `listen` and waits until the server listens (or fails to). */
function listening(server: Server, listen: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.once('listening', () => {
      server.off('error', reject)
      resolve()
    })
    listen()
  })
}

/** An output whose errors (a reader gone) never reach the service as an unhandled 'error'. */
function quiet(out: CommandOutput): CommandOutput {
  out.on('error', () => {})
  return out
}

function flush(out: CommandOutput): Promise<void> {
  return new Promise((resolve) => out.end(() => resolve()))
}

/** Whether a live service answers there (a connection is taken; at an address, the service proves it holds the secret). */
async function answers(where: NetConnectOpts, secret?: Buffer): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const probe = connect(where)
    const done = (live: boolean): void => {
      clearTimeout(timer)
      probe.destroy()
      resolve(live)
    }
    const timer = setTimeout(() => done(false), 2_000)
    probe.once('error', () => done(false))
    probe.once('connect', () => {
      if (secret === undefined) return done(true)
      offerHandshake(probe, new SocketLines(probe), secret).then(done, () => done(false))
    })
  })
}

/** A socket file left by a service that died; one that still answers belongs to a live service. */
async function removeStaleSocket(path: string): Promise<void> {
  const found = await lstat(path).catch(() => undefined)
  if (found === undefined) return
  if (!found.isSocket()) {
    throw new SynclogError(
      'PATH_UNUSABLE',
      `${terminalText(path)} exists and is not a socket; remove it (synclog serve makes its socket there)`,
    )
  }
  if (await answers({ path }))
    throw new SynclogError('DATA_DIR_LOCKED', `another synclog service answers on ${terminalText(path)}; stop it first`)
  await rm(path, { force: true })
}

/** An endpoint file left by a service that died (or one that cannot be used: it is replaced); one whose service still answers is kept. */
async function removeStaleEndpoint(path: string): Promise<void> {
  const found = await lstat(path).catch(() => undefined)
  if (found === undefined) return
  if (!found.isFile()) {
    throw new SynclogError(
      'PATH_UNUSABLE',
      `${terminalText(path)} exists and is not a regular file; remove it (synclog serve writes the address of its service there)`,
    )
  }
  let endpoint: ReturnType<typeof readEndpointFile>
  try {
    endpoint = readEndpointFile(path)
  } catch {
    endpoint = undefined
  }
  if (endpoint !== undefined && (await answers({ host: endpoint.host, port: endpoint.port }, endpoint.secret))) {
    throw new SynclogError('DATA_DIR_LOCKED', `another synclog service answers at the address in ${terminalText(path)}; stop it first`)
  }
  await rm(path, { force: true })
}
