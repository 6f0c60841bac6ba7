/**
 * `synclog serve`: the HTTP API. In embedded mode the server is the process that
 * owns the data directory (lock + chDB) for as long as it runs; stop it with
 * SIGTERM or Ctrl-C, which lets requests in flight finish first.
 */
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { SynclogError } from '../../errors.js'
import { ApiTokens } from '../../http/api-tokens.js'
import { buildServer } from '../../http/server.js'
import { httpSettingsOf, maxConnectionsAllowed, openFileLimit, type HttpSettings } from '../../http/server-limits.js'
import { describeTrustProxy } from '../../http/trust-proxy.js'
import { openStore } from '../../pipeline/open-store.js'
import { contextOf } from '../context.js'
import { registerTokenCommands } from './token.js'

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
    throw new SynclogError('CONFIG_INVALID',
      `http.maxConnections (--max-connections) is ${settings.limits.maxConnections}, but the open-file limit (${files}) leaves room for ${allowed}; `
      + 'lower it, or raise the limit (ulimit -n, LimitNOFILE= in systemd)')
  }
  return settings
}

function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(signal)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  })
}

export function registerServe(program: Command): void {
  program.command('serve')
    .description('HTTP API and web page: sync history, summaries, drill-down, the log and its CSV/Excel downloads, for scoped API tokens (see synclog token)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', '8080')
    .option('--trust-proxy <addresses>', 'reverse proxies whose X-Forwarded-* headers to believe: addresses or CIDR ranges, comma-separated (default: none; config http.trustProxy)')
    .option('--max-connections <n>', 'connections open at once; more are closed as they arrive (default: sized from the open-file limit; config http.maxConnections)')
    .option('--request-timeout <seconds>', 'time a client has to send a whole request, body included (default 30; config http.requestTimeoutSeconds)')
    .action(async (opts: { host: string; port: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const port = parsePort(opts.port)
      const http = settingsFor(ctx.config)
      const tokens = ApiTokens.inDataDir(ctx.config.dataDir)
      const tokenCount = await tokens.count()
      const opened = await openStore(ctx.config, ctx.logger, 'serve')
      try {
        const server = await buildServer({ store: opened.store, tokens, logger: ctx.logger, version: pkg.version, limits: http.limits, trustProxy: http.trustProxy,
          dataDir: ctx.config.dataDir,
        })
        ctx.logger.debug({ ...http.limits, trustProxy: describeTrustProxy(http.trustProxy) }, 'HTTP limits')
        const stopped = nextStopSignal()
        let url: string
        try {
          // Fastify's own line is the one info line of the start (one per address when listening on all interfaces).
          const listenTextResolver = (address: string): string => `synclog API listening on ${address} (${opened.mode} store, data ${ctx.config.dataDir})`
          url = await server.app.listen({ host: opts.host, port, listenTextResolver })
        } catch (e) {
          await server.app.close()
          const reason = (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the port is in use' : (e as Error).message
          throw new SynclogError('USAGE', `cannot listen on ${opts.host}:${port}: ${reason}; pick another --port or --host`, { cause: e })
        }
        if (tokenCount === 0) {
          ctx.logger.warn('no API tokens yet: every /api/v1 request gets 401 until one is created with: synclog token create --name <name> --tenant <district>')
        }
        ctx.stdout.write(`synclog API listening on ${url} (web page at ${url}/, OpenAPI at ${url}/openapi.json); stop with Ctrl-C or SIGTERM\n`)

        const signal = await stopped
        ctx.logger.info({ signal }, 'stopping: finishing requests in flight')
        const cut = (): void => server.app.server.closeAllConnections()
        const timer = setTimeout(cut, DRAIN_MS)
        process.once('SIGINT', cut)
        process.once('SIGTERM', cut)
        try {
          await server.app.close()
        } finally {
          clearTimeout(timer)
          process.off('SIGINT', cut)
          process.off('SIGTERM', cut)
        }
      } finally {
        await opened.close()
      }
      ctx.logger.info('synclog API stopped')
    })
  registerTokenCommands(program)
}
