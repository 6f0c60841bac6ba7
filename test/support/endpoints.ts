/** Where the stream tests find Kafka and the schema registry (started by the services globalSetup). */
export function streamEndpoints(): { brokers: string[]; registryUrl: string } {
  return {
    brokers: (process.env.SYNCLOG_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter(Boolean),
    registryUrl: process.env.SYNCLOG_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7',
  }
}
