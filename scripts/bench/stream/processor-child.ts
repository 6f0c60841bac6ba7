/**
 * The processor stage's figure: synclog's stream processor alone (no projector, no
 * ClickHouse), wired as `synclog run processor` wires it (same Kafka client, serde,
 * topics and fold options), reading an input topic filled beforehand.
 */
import { StreamMetrics } from '../../../src/stream/metrics.js'
import { prepareStream } from '../../../src/stream/prepare-stream.js'
import { ownPeakRss } from '../proc.js'
import { pipelineClient, synclogProcessor } from './pipeline-client.js'
import { counted, runPipelineProcess, send, untilStopped } from './protocol.js'

async function main(): Promise<void> {
  const client = pipelineClient(true)
  const { topics, serde } = await prepareStream(client.kafka, client.config, client.logger)
  const metrics = new StreamMetrics()
  const processor = synclogProcessor(client, client.kafka, serde, topics, metrics)
  await processor.start()
  while (!metrics.ready) await new Promise((r) => setTimeout(r, 50))
  await send({ type: 'ready' })
  await untilStopped()
  await processor.stop()
  const facts = {
    'processor: synclog processor': `${await counted(metrics.eventsProcessed)} change events folded, ${await counted(metrics.deadLetters)} dead letters`,
  }
  await send({ type: 'stopped', peakRss: ownPeakRss(), facts })
}

runPipelineProcess(main)
