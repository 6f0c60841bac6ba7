/** What every pipeline process of the stream and processor stages starts from: its config, logger and Kafka client. */
import type { Kafka } from 'kafkajs'
import { foldOptionsOf, loadConfig, type Config } from '../../../src/config/config.js'
import type { AvroSerde } from '../../../src/kafka/avro-serde.js'
import { createKafka } from '../../../src/kafka/kafka-client.js'
import type { TopicNames } from '../../../src/kafka/topics.js'
import { createLogger, type Logger } from '../../../src/logging/logger.js'
import type { StreamMetrics } from '../../../src/stream/metrics.js'
import { ProcessorService } from '../../../src/stream/processor-service.js'
import type { PipelineArgs } from './protocol.js'

export interface PipelineClient {
  readonly args: PipelineArgs
  readonly config: Config
  readonly logger: Logger
  readonly kafka: Kafka
}

/** The process's arguments, and synclog's config and client for them (synclog's topics under the run's prefix when `prefixed`). */
export function pipelineClient(prefixed: boolean): PipelineClient {
  const args = JSON.parse(process.argv[2] ?? '{}') as PipelineArgs
  const config = loadConfig(
    { data: args.dataDir, brokers: args.brokers, registry: args.registry, logLevel: 'warn' },
    prefixed ? { SYNCLOG_TOPIC_PREFIX: args.prefix } : {},
  )
  const logger = createLogger({ level: 'warn', pretty: false })
  return { args, config, logger, kafka: createKafka(config, logger) }
}

/** synclog's processor as `synclog run` wires it, in the run's consumer group. */
export function synclogProcessor(
  client: PipelineClient,
  kafka: Kafka,
  serde: AvroSerde,
  topics: TopicNames,
  metrics: StreamMetrics,
): ProcessorService {
  return new ProcessorService({
    kafka,
    serde,
    topics,
    groupId: `${client.args.group}-processor`,
    foldOptions: foldOptionsOf(client.config),
    logger: client.logger.child({ component: 'processor' }),
    metrics,
  })
}
