/**
 * What every stream service needs before it starts: its topics (created when
 * missing, with their settings checked) and their Avro schemas registered. Safe when
 * several processes start at once against a fresh cluster and registry: what another one
 * created meanwhile counts as done (see ensureTopics and ConfluentRegistryClient.register).
 */
import type { Config } from '../config/config.js'
import { AvroSerde } from '../kafka/avro-serde.js'
import type { Kafka as KafkaClient } from 'kafkajs'
import { ensureTopics, topicNames, type TopicNames } from '../kafka/topics.js'
import type { Logger } from '../logging/logger.js'

export async function prepareStream(
  kafka: KafkaClient,
  config: Pick<Config, 'kafka' | 'registry'>,
  logger: Logger,
): Promise<{ topics: TopicNames; serde: AvroSerde }> {
  const topics = topicNames(config.kafka)
  const admin = kafka.admin()
  await admin.connect()
  try {
    await ensureTopics(admin, config.kafka, logger)
  } finally {
    await admin.disconnect()
  }
  const serde = new AvroSerde(config.registry.url, logger)
  await serde.register(topics)
  return { topics, serde }
}
