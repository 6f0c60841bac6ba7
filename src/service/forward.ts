/**
 * The CLI side of a running service: a command that needs the store, on a data directory
 * whose `synclog serve` answers on its socket, is sent there whole (arguments, working
 * directory, SYNCLOG_* and CLICKHOUSE_* variables), and its output and exit code are
 * relayed as they come. Without a service the command runs here, as always. Scripts and
 * cron lines stay the same either way.
 */
import { lstatSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { loadConfig, type ConfigFlags } from '../config/config.js'
import { commandStreams, type CommandOutput } from '../cli/command-output.js'
import { FORWARDED_ENV, FRAME, FrameReader, STDOUT_CLOSED, forwardedCommand, type ForwardedRequest } from './frames.js'
import { serviceSocketPath } from './service-socket.js'

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

/** The socket of the service that owns this command's data directory, if one is there. */
function socketFor(args: readonly string[]): string | undefined {
  let dataDir: string
  try {
    const flags: ConfigFlags = { data: optionValue(args, '--data'), config: optionValue(args, '--config') }
    dataDir = loadConfig(flags).dataDir
  } catch {
    return undefined // the command, run here, says what is wrong
  }
  const path = serviceSocketPath(dataDir)
  try {
    return lstatSync(path).isSocket() ? path : undefined
  } catch {
    return undefined
  }
}

function connectTo(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(path)
    socket.once('connect', () => {
      socket.off('error', refused)
      resolve(socket)
    })
    // No one answers: a socket left by a service that died. The command runs here.
    const refused = (): void => resolve(undefined)
    socket.once('error', refused)
  })
}

/**
 * Runs the command in the service that owns its data directory and gives its exit code;
 * undefined when there is none (or the command does not need the store): run it here.
 */
export async function forwardToService(argv: readonly string[]): Promise<number | undefined> {
  const args = argv.slice(2)
  if (!forwardedCommand(argv)) return undefined
  const path = socketFor(args)
  if (path === undefined) return undefined
  const socket = await connectTo(path)
  if (socket === undefined) return undefined
  const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => FORWARDED_ENV.test(k) && v !== undefined)) as Record<string, string>
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
        stderr.write('synclog: the synclog service stopped before the command finished; run it again (a write it had started completed or resumes on the next run)\n')
        resolve(1)
        return
      }
      resolve(code)
    })
  })
}
