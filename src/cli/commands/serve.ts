/**
 * `synclog serve`: the HTTP API, and the one process that owns the data directory (lock +
 * chDB) for as long as it runs. CLI commands on that directory run in it, sent over a
 * local socket (src/service/). Stop it with SIGTERM or Ctrl-C: requests and commands in
 * flight finish first, and a write in progress (an import) always completes.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { SynclogError } from '../../errors.js'
import { ApiTokens } from '../../http/api-tokens.js'
import { buildServer } from '../../http/server.js'
import { httpSettingsOf, maxConnectionsAllowed, openFileLimit, type HttpSettings } from '../../http/server-limits.js'
import { describeTrustProxy } from '../../config/trust-proxy.js'
import { timeZonesOf } from '../../config/config.js'
import { openStore } from '../../pipeline/open-store.js'
import { CommandService, type RunCommand } from '../../service/command-service.js'
import { SharedStore } from '../../service/shared-store.js'
import { ServiceImports, checkWatchDir, parseSettleSeconds } from '../../service/service-imports.js'
import { DEFAULT_SETTLE_SECONDS } from '../../service/drop-folder.js'
import { syncDecisions } from '../../pipeline/sync-decisions.js'
import { nextStopSignal } from '../../process/stop-signal.js'
import { contextOf } from '../context.js'
import { registerTokenCommands } from './token.js'
import { parseSqlPort, startSqlEndpoint } from '../../sql/sql-endpoint.js'
import { parseMetricsPort, startStreamServices, type StreamServices } from '../../stream/stream-services.js'
import { streamDecisions } from '../../stream/stream-decisions.js'

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }

/** How long requests in flight (a long download) may take after a stop signal before their connections are cut. */
const DRAIN_MS = 10_000

function parsePort(value: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port > 65_535) {
    throw new SynclogError('USAGE', `--port must be a whole number from 0 to 65535 (0 = any free port; got '${value}')`)
  }
  return port
}

/** The server's settings; a connection limit the open-file limit cannot hold fails at start. */
function settingsFor(config: Parameters<typeof httpSettingsOf>[0]): HttpSettings {
  const files = openFileLimit()
  const settings = httpSettingsOf(config, files)
  const allowed = maxConnectionsAllowed(files)
  if (allowed !== undefined && settings.limits.maxConnections > allowed) {
    throw new SynclogError(
      'CONFIG_INVALID',
      `http.maxConnections (--max-connections) is ${settings.limits.maxConnections}, but the open-file limit (${files}) leaves room for ${allowed}; ` +
        'lower it, or raise the limit (ulimit -n, LimitNOFILE= in systemd)',
    )
  }
  return settings
}

/** `run` runs a CLI command line sent by another process (the program's own `main`). */
export function registerServe(program: Command, run: RunCommand): void {
  program
    .command('serve')
    .description(
      'HTTP API and web page: sync history, summaries, drill-down, the log and its CSV/Excel downloads, for scoped API tokens (see synclog token)',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', '8080')
    .option(
      '--trust-proxy <addresses>',
      'reverse proxies whose X-Forwarded-* headers to believe: addresses or CIDR ranges, comma-separated (default: none; config http.trustProxy)',
    )
    .option(
      '--max-connections <n>',
      'connections open at once; more are closed as they arrive (default: sized from the open-file limit; config http.maxConnections)',
    )
    .option(
      '--request-timeout <seconds>',
      'time a client has to send a whole request, body included (default 30; config http.requestTimeoutSeconds)',
    )
    .option(
      '--sql-port <port>',
      "also answer read-only SQL for operator tokens on this port, as ClickHouse's HTTP interface (e.g. 8123; 0 = any free port; default: off)",
    )
    .option(
      '--stream',
      'also run the stream processor and projector (what synclog run all runs) in this process, over its store: the log can be read while events arrive',
    )
    .option('--group <name>', 'with --stream: consumer group prefix (one per deployment)', 'synclog')
    .option(
      '--metrics-port <port>',
      "with --stream: port of the stream services' /healthz, /readyz and /metrics on 127.0.0.1 (0 = none)",
      '0',
    )
    .option(
      '--watch <dir>',
      'import what districts deliver into <dir>/<tenant>/ (a .zip or a bundle folder, e.g. by SFTP), then move it to done/ or failed/ (docs/services.md)',
    )
    .option(
      '--watch-settle <seconds>',
      'with --watch: how long a delivered file must stay unchanged before it is imported',
      String(DEFAULT_SETTLE_SECONDS),
    )
    .addHelpText(
      'after',
      '\nWhile it runs, it owns the data directory: CLI commands on the same --data (import, log, export, approve, ...)\n' +
        'run inside it, over <data>/synclog.sock (or, for a path too long for a socket, the address in <data>/synclog.endpoint),\n' +
        'with the same output and exit codes. SIGTERM or Ctrl-C drains and stops it.',
    )
    .action(
      async (
        opts: {
          host: string
          port: string
          sqlPort?: string
          stream?: boolean
          group: string
          metricsPort: string
          watch?: string
          watchSettle: string
        },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd)
        const port = parsePort(opts.port)
        const sqlPort = opts.sqlPort === undefined ? undefined : parseSqlPort(opts.sqlPort)
        const metricsPort = parseMetricsPort(opts.metricsPort, '--metrics-port')
        const http = settingsFor(ctx.config)
        const settleMs = parseSettleSeconds(opts.watchSettle) * 1000
        const watchDir = opts.watch === undefined ? undefined : await checkWatchDir(resolve(ctx.cwd, opts.watch))
        const tokens = ApiTokens.inDataDir(ctx.config.dataDir)
        const tokenCount = await tokens.count()
        const opened = await openStore(ctx.config, ctx.logger, opts.stream === true ? 'serve --stream' : 'serve', 'serve')
        let stream: StreamServices | undefined
        try {
          // Stopped after the requests and commands in flight, before the store closes (the finally below).
          if (opts.stream === true)
            stream = await startStreamServices({
              role: 'all',
              config: ctx.config,
              logger: ctx.logger,
              group: opts.group,
              store: opened.store,
              metricsPort,
            })
          // A held sync that came through the stream is decided there, where its processor holds it.
          const streamed = stream
          const elsewhere =
            streamed === undefined
              ? undefined
              : streamDecisions({
                  getSync: (scope, syncId) => opened.store.getSync(scope, syncId),
                  publish: (events) => streamed.publish(events),
                })
          const shared = new SharedStore(opened, ctx.config.dataDir, ctx.config.clickhouse.url, elsewhere)
          const imports = await ServiceImports.open(shared, ctx.config, ctx.logger)
          const server = await buildServer({
            store: opened.store,
            tokens,
            logger: ctx.logger,
            version: pkg.version,
            limits: http.limits,
            trustProxy: http.trustProxy,
            dataDir: ctx.config.dataDir,
            decisions: syncDecisions((work) => shared.withPipeline(ctx.config, ctx.logger, work), elsewhere),
            imports,
            timeZones: timeZonesOf(ctx.config),
            alertDeliveries: opened.store.alertDeliveries,
          })
          ctx.logger.debug({ ...http.limits, trustProxy: describeTrustProxy(http.trustProxy) }, 'HTTP limits')
          const stopped = nextStopSignal()
          let url: string
          try {
            // Fastify's own line is the one info line of the start (one per address when listening on all interfaces).
            const listenTextResolver = (address: string): string =>
              `synclog API listening on ${address} (${opened.mode} store, data ${ctx.config.dataDir})`
            url = await server.app.listen({ host: opts.host, port, listenTextResolver })
            opened.alerts.linkTo(url)
          } catch (e) {
            await server.app.close()
            const reason = (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is in use' : (e as Error).message
            throw new SynclogError('USAGE', `cannot listen on ${opts.host}:${port}: ${reason}; pick another --port or --host`, { cause: e })
          }
          let commands: CommandService | undefined
          try {
            commands = await CommandService.listen(shared, run, ctx.logger)
          } catch (e) {
            await server.app.close()
            throw e
          }
          const sql =
            sqlPort === undefined
              ? undefined
              : await startSqlEndpoint({
                  client: opened.store.clickhouse,
                  tokens,
                  logger: ctx.logger,
                  host: opts.host,
                  port: sqlPort,
                  http: http.limits,
                  sql: ctx.config.sql,
                  dataDir: ctx.config.dataDir,
                  stdout: ctx.stdout,
                }).catch(async (e: unknown) => {
                  await Promise.all([server.app.close(), commands?.close(0, Promise.resolve())])
                  throw e
                })
          if (watchDir !== undefined) await imports.watch(watchDir, settleMs)
          if (tokenCount === 0) {
            ctx.logger.warn(
              'no API tokens yet: every /api/v1 request gets 401 until one is created with: synclog token create --name <name> --tenant <district>',
            )
          }
          ctx.stdout.write(
            `synclog API listening on ${url} (web page at ${url}/, OpenAPI at ${url}/openapi.json); stop with Ctrl-C or SIGTERM\n`,
          )

          const signal = await stopped
          ctx.logger.info({ signal }, 'stopping: finishing requests and commands in flight')
          // A second signal cuts requests and reading commands at once; a write in progress still completes.
          let secondSignal: () => void = () => {}
          const cutNow = new Promise<void>((resolve) => (secondSignal = resolve))
          const cut = (): void => {
            server.app.server.closeAllConnections()
            secondSignal()
          }
          const timer = setTimeout(() => server.app.server.closeAllConnections(), DRAIN_MS)
          process.once('SIGINT', cut)
          process.once('SIGTERM', cut)
          try {
            await Promise.all([server.app.close(), commands?.close(DRAIN_MS, cutNow), sql?.close(DRAIN_MS), imports.close()])
          } finally {
            clearTimeout(timer)
            process.off('SIGINT', cut)
            process.off('SIGTERM', cut)
          }
        } finally {
          await stream?.stop()
          await opened.close()
        }
        ctx.logger.info('synclog API stopped')
      },
    )
  registerTokenCommands(program)
}
