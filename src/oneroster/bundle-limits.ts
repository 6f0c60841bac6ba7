/**
 * The size limits of a bundle (src/config/limits.ts), checked twice: on the sizes
 * a folder or a zip's central directory declares, before anything is read, and
 * on the bytes actually read or inflated, so a header that lies is caught as the
 * stream passes what it declared, and the stream is stopped there.
 */
import { SynclogError } from '../errors.js'
import { formatBytes, howToRaise, type InputLimits } from '../config/limits.js'

export type BundleLimits = Pick<InputLimits, 'zipBytes' | 'bundleBytes' | 'fileBytes' | 'zipRatio' | 'zipEntries'>

/** An entry smaller than this is never refused for its ratio (a short file of commas compresses very well). */
export const RATIO_GRACE_BYTES = 1024 * 1024

export function overLimit(message: string, key: keyof InputLimits): SynclogError {
  return new SynclogError('INPUT_LIMIT_EXCEEDED', `${message}; ${howToRaise(key)}`)
}

/** `users.csv in the zip night1.zip` / `users.csv in the folder night1`. */
export type Where = (name: string) => string

/** Checks what a file declares about itself before it is read. */
export function checkDeclared(where: Where, name: string, size: number, compressed: number | null, limits: BundleLimits): void {
  if (size > limits.fileBytes) {
    throw overLimit(
      `${where(name)} is ${formatBytes(size)} expanded, more than the limit fileBytes (${formatBytes(limits.fileBytes)})`,
      'fileBytes',
    )
  }
  if (compressed !== null && size > RATIO_GRACE_BYTES && size > limits.zipRatio * Math.max(compressed, 1)) {
    throw ratioError(where(name), size, compressed, limits)
  }
}

export function checkTotal(what: string, total: number, limits: BundleLimits): void {
  if (total > limits.bundleBytes) {
    throw overLimit(
      `the files of ${what} expand to ${formatBytes(total)} in all, more than the limit bundleBytes (${formatBytes(limits.bundleBytes)})`,
      'bundleBytes',
    )
  }
}

function ratioError(where: string, size: number, compressed: number, limits: BundleLimits): SynclogError {
  const ratio = Math.floor(size / Math.max(compressed, 1))
  return overLimit(
    `${where} expands ${ratio}:1 (${formatBytes(compressed)} to at least ${formatBytes(size)}), more than the limit zipRatio (${limits.zipRatio}:1); ` +
      'a CSV export compresses far less, so this is a zip bomb or a damaged zip',
    'zipRatio',
  )
}

/**
 * The bytes of one file, counted as they pass: more than fileBytes, or (zip
 * entry) more than its header declares or zipRatio times its compressed size
 * throws, which ends the iteration and so destroys the stream underneath.
 */
export async function* boundedBytes(
  chunks: AsyncIterable<Buffer>,
  where: string,
  limits: BundleLimits,
  zipped: { declared: number; compressed: number } | null = null,
): AsyncGenerator<Buffer> {
  let bytes = 0
  for await (const chunk of chunks) {
    bytes += chunk.length
    if (bytes > limits.fileBytes) {
      throw overLimit(`${where} expands to more than the limit fileBytes (${formatBytes(limits.fileBytes)})`, 'fileBytes')
    }
    if (zipped === null) {
      yield chunk
      continue
    }
    if (bytes > RATIO_GRACE_BYTES && bytes > limits.zipRatio * Math.max(zipped.compressed, 1))
      throw ratioError(where, bytes, zipped.compressed, limits)
    if (bytes > zipped.declared)
      throw new SynclogError(
        'INPUT_UNREADABLE',
        `${where} inflates to more than the ${zipped.declared} bytes its header declares: the zip is damaged or forged`,
      )
    yield chunk
  }
}
