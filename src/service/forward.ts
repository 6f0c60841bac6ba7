/**
 * The CLI side of a running service: a command that needs the store, on a data directory
 * whose `synclog serve` answers on its socket (or, for a path too long for one, at the
 * address its endpoint file names), is sent there whole (arguments, working directory,
 * SYNCLOG_* and CLICKHOUSE_* variables), and its output and exit code are relayed as they
 * come. Without a service the command runs here, as always. Scripts and cron lines stay
 * the same either way.
 */
import { lstatSync } from 'node:fs'
import { connect, type NetConnectOpts, type Socket } from 'node:net'
import { loadConfig, type ConfigFlags } from '../config/config.js'
import { commandStreams, type CommandOutput } from '../cli/command-output.js'
import { isSynclogError } from '../errors.js'
import { terminalText } from '../export/terminal-text.js'
import { FORWARDED_ENV, FRAME, FrameReader, STDOUT_CLOSED, SocketLines, forwardedCommand, type ForwardedRequest } from './frames.js'
import { offerHandshake, readEndpointFile, type ServiceEndpoint } from './endpoint-file.js'
import { serviceEndpointFilePath, serviceSocketPath, socketPathFits } from './service-socket.js'

/** Time the service has to prove itself at the address of an endpoint file. */
const HANDSHAKE_TIMEOUT_MS = 10_000

/** The value of a global option wherever it stands (`--data D` or `--data=D`); the last one wins, as in the program. */
function optionValue(args: readonly string[], name: string): string | undefined {
  let value: string | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--') break
    if (a === name) value = args[++i]
    else if (a.startsWith(`${name}=`)) value = a.slice(name.length + 1)
  }
  return value
}

/** The data directory this command line works on; undefined when the config cannot be read (the command, run here, says why). */
function dataDirOf(args: readonly string[]): string | undefined {
  try {
    const flags: ConfigFlags = { data: optionValue(args, '--data'), config: optionValue(args, '--config') }
    return loadConfig(flags).dataDir
  } catch {
    return undefined
  }
}

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket()
  } catch {
    return false
  }
}

function connectTo(where: NetConnectOpts): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(where)
    socket.once('connect', () => {
      socket.off('error', refused)
      resolve(socket)
    })
    // No one answers: a socket or an endpoint left by a service that died. The command runs here.
    const refused = (): void => resolve(undefined)
    socket.once('error', refused)
  })
}

/** A connection to the service at an endpoint file's address, once it proved it holds the secret; undefined when it did not. */
async function connectWithSecret(endpoint: ServiceEndpoint): Promise<Socket | undefined> {
  const socket = await connectTo({ host: endpoint.host, port: endpoint.port })
  if (socket === undefined) return undefined
  socket.on('error', () => socket.destroy())
  const lines = new SocketLines(socket)
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), HANDSHAKE_TIMEOUT_MS)))
  const proved = await Promise.race([offerHandshake(socket, lines, endpoint.secret), timedOut]).catch(() => false)
  clearTimeout(timer)
  lines.detach()
  if (proved) return socket
  socket.destroy()
  return undefined
}

/** A connection to the service that owns the data directory: its socket, else the address of its endpoint file; undefined when none answers. */
export async function connectToService(dataDir: string): Promise<Socket | undefined> {
  const path = serviceSocketPath(dataDir)
  if (socketPathFits(path) && isSocket(path)) {
    const socket = await connectTo({ path })
    if (socket !== undefined) return socket
  }
  const endpoint = readEndpointFile(serviceEndpointFilePath(dataDir))
  return endpoint === undefined ? undefined : connectWithSecret(endpoint)
}

/**
 * Runs the command in the service that owns its data directory and gives its exit code;
 * undefined when there is none (or the command does not need the store): run it here.
 */
export async function forwardToService(argv: readonly string[]): Promise<number | undefined> {
  const args = argv.slice(2)
  if (!forwardedCommand(argv)) return undefined
  const dataDir = dataDirOf(args)
  if (dataDir === undefined) return undefined
  let socket: Socket | undefined
  try {
    socket = await connectToService(dataDir)
  } catch (e) {
    if (!isSynclogError(e)) throw e
    commandStreams().stderr.write(`synclog: ${terminalText(e.message)}\n`)
    return 1
  }
  if (socket === undefined) return undefined
  const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => FORWARDED_ENV.test(k) && v !== undefined)) as Record<
    string,
    string
  >
  const terminal = { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true }
  const request: ForwardedRequest = { version: 1, argv: [...argv], cwd: process.cwd(), env, terminal }
  socket.write(`${JSON.stringify(request)}\n`)
  return relay(socket)
}

/** Prints the service's frames as they come (a slow reader holds the service back) and gives the exit code. */
function relay(socket: Socket): Promise<number> {
  const { stdout, stderr } = commandStreams()
  const reader = new FrameReader()
  let told = false
  return new Promise((resolve) => {
    let code: number | undefined
    const tellIfGone = (): void => {
      if (told || !stdout.readerGone || socket.destroyed) return
      told = true
      socket.write(`${STDOUT_CLOSED}\n`)
    }
    const waiting = new Set<CommandOutput>()
    const print = (out: CommandOutput, payload: Buffer): void => {
      if (out.write(payload, tellIfGone) || waiting.has(out)) return
      waiting.add(out)
      socket.pause()
      out.once('drain', () => {
        waiting.delete(out)
        if (waiting.size === 0) socket.resume()
      })
    }
    socket.on('data', (chunk: Buffer) => {
      for (const { kind, payload } of reader.push(chunk)) {
        if (kind === FRAME.stdout) print(stdout, payload)
        else if (kind === FRAME.stderr) print(stderr, payload)
        else if (kind === FRAME.exit) code = Number(payload.toString('utf8'))
      }
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      if (code === undefined || !Number.isInteger(code)) {
        stderr.write(
          'synclog: the synclog service stopped before the command finished; run it again (a write it had started completed or resumes on the next run)\n',
        )
        resolve(1)
        return
      }
      resolve(code)
    })
  })
}
