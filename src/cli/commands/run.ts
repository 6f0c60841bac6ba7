/**
 * `synclog run processor|projector|all`: the long-lived stream services.
 */
import type { Command } from 'commander'
import { createKafka } from '../../kafka/kafka-client.js'
import { prepareStream } from '../../stream/prepare-stream.js'
import { foldOptionsOf } from '../../config/config.js'
import { ProcessorService } from '../../stream/processor-service.js'
import { ProjectorService } from '../../stream/projector-service.js'
import { StreamMetrics, serveMetrics } from '../../stream/metrics.js'
import { openStore, type OpenStore } from '../../pipeline/open-store.js'
import { SynclogError } from '../../errors.js'
import { contextOf } from '../context.js'

const ROLES = ['processor', 'projector', 'all'] as const

export function registerRun(program: Command): void {
  program.command('run')
    .description('Run the stream services: the processor (change events -> sync-log events, exactly once) and/or the projector (sync-log events -> ClickHouse)')
    .argument('<role>', 'processor | projector | all (both in one process, for small installs)')
    .option('--http-port <port>', 'port of /healthz, /readyz and /metrics (0 = none)', '9464')
    .option('--group <name>', 'consumer group prefix (one per deployment)', 'synclog')
    .addHelpText('after', '\nStops cleanly on SIGTERM or SIGINT: the batch in flight is committed or aborted, offsets and connections closed.')
    .action(async (role: string, opts: { httpPort: string; group: string }, cmd: Command) => {
      if (!(ROLES as readonly string[]).includes(role)) throw new SynclogError('USAGE', `role must be one of ${ROLES.join(', ')} (got '${role}')`)
      const port = Number(opts.httpPort)
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SynclogError('USAGE', `--http-port must be a port number (got '${opts.httpPort}')`)
      const ctx = contextOf(cmd)
      const { config, logger } = ctx
      const kafka = createKafka(config, logger)
      const { topics, serde } = await prepareStream(kafka, config, logger)

      const metrics = new StreamMetrics()
      const server = port > 0 ? await serveMetrics(metrics, port) : undefined
      const stoppers: (() => Promise<void>)[] = []
      let store: OpenStore | undefined
      if (role === 'projector' || role === 'all') {
        store = await openStore(config, logger, `run ${role}`)
        const projector = new ProjectorService({ kafka, serde, topics, groupId: `${opts.group}-projector`, store: store.store, logger: logger.child({ component: 'projector' }), metrics })
        await projector.start()
        stoppers.push(() => projector.stop())
      }
      if (role === 'processor' || role === 'all') {
        const processor = new ProcessorService({ kafka, serde, topics, groupId: `${opts.group}-processor`, foldOptions: foldOptionsOf(config), logger: logger.child({ component: 'processor' }), metrics })
        await processor.start()
        stoppers.unshift(() => processor.stop())
      }
      logger.info({ role, topics, metricsPort: port || null }, 'synclog stream services running')

      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          logger.info({ signal }, 'stopping')
          resolve()
        }
        process.once('SIGTERM', () => stop('SIGTERM'))
        process.once('SIGINT', () => stop('SIGINT'))
      })
      for (const s of stoppers) await s().catch((e: unknown) => logger.error({ err: e }, 'error while stopping'))
      await store?.close()
      server?.close()
      logger.info('stopped')
    })
}
