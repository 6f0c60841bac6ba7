/**
 * One measurement in a process of its own (its RSS is the measurement's, and
 * chDB binds one data directory per process). Started by the harness with a
 * ChildSpec as its argument; answers with one message and exits. Stage code
 * is imported on demand, so a child loads only what its stage uses.
 */
import { ownPeakRss } from './proc.js'
import type { ChildResult, ChildSpec } from './types.js'

export type ChildMessage =
  { readonly type: 'result'; readonly result: ChildResult; readonly peakRss: number } | { readonly type: 'error'; readonly message: string }

function reply(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      process.stdout.write(`${JSON.stringify(message)}\n`)
      return resolve()
    }
    process.send(message, undefined, undefined, () => resolve())
  })
}

async function run(spec: ChildSpec): Promise<ChildResult> {
  switch (spec.stage) {
    case 'fold':
      return (await import('./stages/fold.js')).runFold(spec)
    case 'import':
      return (await import('./stages/import.js')).runImport(spec)
    case 'projection': {
      const m = await import('./stages/projection.js')
      return spec.variant === 'prep' ? m.runProjectionPrep(spec) : m.runProjection(spec)
    }
    case 'query':
      return (await import('./stages/query.js')).runQuery(spec)
    case 'export':
      return (await import('./stages/export.js')).runExport(spec)
    case 'processor':
      return (await import('./stages/processor.js')).runProcessor(spec)
    case 'stream':
      return (await import('./stages/stream.js')).runStream(spec)
    case 'responsive':
      return (await import('./stages/responsive.js')).runResponsive(spec)
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as ChildSpec & { idle?: boolean }
  // An idle child: what a child costs before it does anything (node + tsx).
  const result = spec.idle ? { rows: [] } : await run(spec)
  await reply({ type: 'result', result, peakRss: ownPeakRss() })
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    await reply({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) })
    process.exit(1)
  },
)
