/**
 * `synclog run processor|projector|all`: the long-lived stream services, in a process of
 * their own (src/stream/stream-services.ts; `synclog serve --stream` runs the same inside
 * the service).
 */
import type { Command } from 'commander'
import { parseMetricsPort, parseStreamRole, projects, startStreamServices, STREAM_ROLES } from '../../stream/stream-services.js'
import { openProjectorStore, type ProjectorStore } from '../../service/store-writes.js'
import { contextOf } from '../context.js'
import { nextStopSignal } from '../../process/stop-signal.js'

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'Run the stream services: the processor (change events -> sync-log events, exactly once) and/or the projector (sync-log events -> ClickHouse)',
    )
    .argument(
      '<role>',
      `${STREAM_ROLES.join(' | ')} (both in one process, for small installs; to read the log while they run on the embedded store, use synclog serve --stream)`,
    )
    .option('--http-port <port>', 'port of /healthz, /readyz and /metrics (0 = none)', '9464')
    .option('--group <name>', 'consumer group prefix (one per deployment)', 'synclog')
    .addHelpText(
      'after',
      '\nStops cleanly on SIGTERM or SIGINT (also when started with npx and npm is stopped): the batch in flight is committed or aborted, offsets and connections closed.',
    )
    .action(async (roleName: string, opts: { httpPort: string; group: string }, cmd: Command) => {
      const role = parseStreamRole(roleName)
      const metricsPort = parseMetricsPort(opts.httpPort, '--http-port')
      const { config, logger } = contextOf(cmd)
      // On an embedded data directory a live `synclog serve` owns, the projector writes through that service.
      const opened: ProjectorStore | undefined = projects(role) ? await openProjectorStore(config, logger, `run ${role}`) : undefined
      try {
        const services = await startStreamServices({ role, config, logger, group: opts.group, store: opened?.store, metricsPort })
        // SIGTERM, Ctrl-C, or the end of npm under `npx synclog run all` (src/process/stop-signal.ts).
        const signal = await nextStopSignal()
        logger.info({ signal }, 'stopping')
        await services.stop()
      } finally {
        await opened?.close()
      }
      logger.info('stopped')
    })
}
