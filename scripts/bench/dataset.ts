/**
 * The generated roster the stages read, made once per scale and seed and kept
 * in .cache/bench/data (regenerated when the generator changes).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DATASET_FILE, GENERATOR_VERSION, generateDataset, type DatasetSummary } from '../../src/generate/generate.js'
import { SCALES, type ScaleName } from '../../src/generate/scales.js'

export async function readDataset(dir: string): Promise<DatasetSummary> {
  return JSON.parse(await readFile(join(dir, DATASET_FILE), 'utf8')) as DatasetSummary
}

async function existing(dir: string, scale: ScaleName, seed: number): Promise<DatasetSummary | null> {
  try {
    const d = await readDataset(dir)
    return d.generatorVersion === GENERATOR_VERSION && d.scale === scale && d.seed === seed && d.format === 'both' ? d : null
  } catch {
    return null
  }
}

/** The dataset for scale and seed under `root`, generated if missing; `generated` says whether it was made now. */
export async function ensureDataset(
  root: string,
  scale: ScaleName,
  seed: number,
  log: (line: string) => void,
): Promise<{ dir: string; dataset: DatasetSummary; generated: boolean }> {
  const dir = join(root, `${scale}-seed${seed}`)
  const found = await existing(dir, scale, seed)
  if (found) return { dir, dataset: found, generated: false }
  log(`generating the ${scale} dataset (seed ${seed}) into ${dir}`)
  const dataset = await generateDataset({ scale: SCALES[scale], out: dir, seed, format: 'both', onProgress: log })
  return { dir, dataset, generated: true }
}

/** Data rows of every CSV file of every night (what the import stage reads). */
export function csvDataRows(d: DatasetSummary): number {
  return d.perNight.reduce((n, night) => n + Object.values(night.csvRows).reduce((a, b) => a + b, 0), 0)
}

/** Change events of every night's NDJSON file. */
export function ndjsonEvents(d: DatasetSummary): number {
  return d.perNight.reduce((n, night) => n + night.events, 0)
}
