/**
 * The synclog processes of a soak, run from dist/ as a user runs them: one `synclog serve`
 * owning the embedded data directory, and the `synclog run processor` and `run projector`
 * instances of one deployment (one consumer group per role). Each writes its stderr to a
 * log file of the run. A process that exits without the soak having stopped it is counted
 * and started again, as a supervisor (systemd, Kubernetes) would.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { freePort } from '../../test/support/stream-events.js'

export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')

export type Role = 'processor' | 'projector'

export interface Member {
  readonly role: Role | 'serve'
  readonly name: string
  readonly child: ChildProcess
  readonly metricsPort: number
  /** Set when the soak stopped or killed it on purpose. */
  intended: boolean
}

export interface FleetOptions {
  readonly env: Readonly<Record<string, string>>
  readonly dataDir: string
  readonly logDir: string
  /** Progress lines of the soak. */
  readonly say: (line: string) => void
}

export class Fleet {
  private readonly members = new Set<Member>()
  private serveMember: Member | undefined
  private counter = 0
  private closing = false
  /** Processes that exited on their own (crashes), by role, with the last lines they logged. */
  readonly unexpectedExits: { name: string; code: number | null; signal: string | null }[] = []
  /** While set, processes wait before they are started (the registry being restored). */
  private hold: Promise<void> | undefined

  constructor(private readonly opts: FleetOptions) {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`)
  }

  /** Running and not being stopped by the soak. */
  live(role: Role): Member[] {
    return [...this.members].filter((m) => m.role === role && !m.intended && m.child.exitCode === null && m.child.signalCode === null)
  }

  all(role: Role): Member[] {
    return [...this.members].filter((m) => m.role === role)
  }

  get serve(): Member | undefined {
    return this.serveMember
  }

  /** Holds the start of processors and projectors until `until` settles. */
  holdRestarts(until: Promise<void>): void {
    this.hold = until.finally(() => (this.hold = undefined))
  }

  private spawnLogged(role: Role | 'serve', args: readonly string[], port: number): Member {
    const name = `${role}-${++this.counter}`
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, SYNCLOG_LOG_LEVEL: 'info', ...this.opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const log = createWriteStream(join(this.opts.logDir, `${name}.log`))
    child.stdout!.pipe(log, { end: false })
    child.stderr!.pipe(log, { end: false })
    const member: Member = { role, name, child, metricsPort: port, intended: false }
    this.members.add(member)
    child.once('exit', (code, signal) => {
      log.end()
      if (member.intended || this.closing) return
      this.unexpectedExits.push({ name, code, signal })
      this.opts.say(`${name} exited on its own (code ${code}, signal ${signal}); starting another`)
      void this.restartLater(member)
    })
    return member
  }

  private async restartLater(member: Member): Promise<void> {
    await new Promise((r) => setTimeout(r, 3_000))
    if (this.closing) return
    if (member.role === 'serve') await this.startServe()
    else await this.start(member.role)
  }

  /** Starts a processor or projector (after a hold); resolves once it is spawned (it gets ready on its own). */
  async start(role: Role): Promise<Member> {
    await this.hold
    const port = await freePort()
    const args = ['run', role, '--http-port', String(port), ...(role === 'projector' ? ['--data', this.opts.dataDir] : [])]
    return this.spawnLogged(role, args, port)
  }

  /** Starts `synclog serve` on the data directory; resolves once it listens. */
  async startServe(): Promise<Member> {
    const member = this.spawnLogged('serve', ['serve', '--port', '0', '--data', this.opts.dataDir], 0)
    this.serveMember = member
    await new Promise<void>((done, fail) => {
      let out = ''
      const timer = setTimeout(() => fail(new Error(`synclog serve did not listen within 120 s (see ${member.name}.log)`)), 120_000)
      member.child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        if (/synclog API listening on/.test(out)) {
          clearTimeout(timer)
          done()
        }
      })
      member.child.once('exit', () => {
        clearTimeout(timer)
        fail(new Error(`synclog serve exited before it listened (see ${member.name}.log)`))
      })
    })
    return member
  }

  /** Sends a signal the soak means (a kill, a stop): the process is not restarted for it. */
  signal(member: Member, signal: NodeJS.Signals): void {
    if (signal !== 'SIGSTOP' && signal !== 'SIGCONT') member.intended = true
    member.child.kill(signal)
  }

  async exited(member: Member): Promise<void> {
    if (member.child.exitCode !== null || member.child.signalCode !== null) return
    await new Promise((r) => member.child.once('exit', r))
  }

  /** Whether the process answers /readyz (serve: always, once listening). */
  async ready(member: Member): Promise<boolean> {
    if (member.role === 'serve') return member.child.exitCode === null
    const r = await fetch(`http://127.0.0.1:${member.metricsPort}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined)
    return r?.status === 200
  }

  /** Stops everything: SIGTERM, SIGKILL after 20 s. */
  async close(): Promise<void> {
    this.closing = true
    const running = [...this.members].filter((m) => m.child.exitCode === null && m.child.signalCode === null)
    for (const m of running) {
      m.child.kill('SIGCONT')
      m.child.kill('SIGTERM')
    }
    await Promise.all(
      running.map(async (m) => {
        const timer = setTimeout(() => m.child.kill('SIGKILL'), 20_000)
        await this.exited(m)
        clearTimeout(timer)
      }),
    )
  }
}
