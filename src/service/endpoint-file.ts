/**
 * The service's endpoint where its data directory's path is too long for a Unix socket: it
 * listens on a loopback port and writes `<data>/synclog.endpoint` (owner-only, written
 * whole or not at all, removed when it stops) with the port and a random secret. Any local
 * user can reach the port, so nothing is read or answered there until both sides have
 * proved they hold the secret, without sending it (an HMAC of the other side's nonce): a
 * client of another user gets no command run, and a CLI that meets another program on the
 * port of a service that died sends it neither the secret nor its command.
 */
import { constants, fstatSync, openSync, readSync, closeSync } from 'node:fs'
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Socket } from 'node:net'
import { SynclogError } from '../errors.js'
import { terminalText } from '../export/terminal-text.js'
import { replaceFile } from '../paths/replace-file.js'
import type { SocketLines } from './frames.js'

export interface ServiceEndpoint {
  readonly host: string
  readonly port: number
  readonly secret: Buffer
}

/** The only addresses an endpoint file may name: the service is local. */
const LOOPBACK = new Set(['127.0.0.1', '::1'])
const MAX_FILE_BYTES = 4096
const HEX_32_BYTES = /^[0-9a-f]{64}$/

export function newSecret(): Buffer {
  return randomBytes(32)
}

/** Writes the endpoint file owner-only (mode 0600 from its creation), replacing any other in one rename. */
export async function writeEndpointFile(path: string, endpoint: ServiceEndpoint): Promise<void> {
  await replaceFile(
    path,
    `${JSON.stringify({ version: 1, host: endpoint.host, port: endpoint.port, secret: endpoint.secret.toString('hex') })}\n`,
    { mode: 0o600 },
  )
}

function unusable(path: string, why: string): SynclogError {
  return new SynclogError('PATH_UNUSABLE', `${terminalText(path)} ${why}`)
}

/**
 * The endpoint a service wrote, or undefined when there is no file. A file that is not a
 * regular one, not this user's, or readable or writable by anyone else is refused: it could
 * send the command (and its SYNCLOG_* / CLICKHOUSE_* variables) to someone else.
 */
export function readEndpointFile(path: string): ServiceEndpoint | undefined {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP')
      throw unusable(path, 'is a symbolic link; remove it (synclog serve writes the address of its service there)')
    // None there, or none this user may read: no service to reach; the command, run here, meets the directory as it is.
    return undefined
  }
  try {
    const found = fstatSync(fd)
    if (!found.isFile()) throw unusable(path, 'is not a regular file; remove it (synclog serve writes the address of its service there)')
    const uid = process.getuid?.()
    if (uid !== undefined && found.uid !== uid) {
      throw unusable(
        path,
        `belongs to another user (uid ${found.uid}), so it cannot name this data directory's synclog service; run the command as the user that runs synclog serve, or remove the file`,
      )
    }
    if ((found.mode & 0o077) !== 0) {
      throw unusable(
        path,
        `can be read or written by other users (mode ${(found.mode & 0o777).toString(8).padStart(4, '0')}), and it holds the secret of the synclog service; ` +
          'remove it and restart synclog serve, which writes it owner-only',
      )
    }
    const bytes = Buffer.alloc(MAX_FILE_BYTES + 1)
    const length = readSync(fd, bytes, 0, bytes.length, 0)
    return parseEndpoint(path, bytes.subarray(0, length).toString('utf8'))
  } finally {
    closeSync(fd)
  }
}

function parseEndpoint(path: string, text: string): ServiceEndpoint {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  const e = value as { version?: unknown; host?: unknown; port?: unknown; secret?: unknown } | undefined
  if (
    e === undefined ||
    e === null ||
    typeof e !== 'object' ||
    e.version !== 1 ||
    typeof e.host !== 'string' ||
    !LOOPBACK.has(e.host) ||
    typeof e.port !== 'number' ||
    !Number.isInteger(e.port) ||
    e.port < 1 ||
    e.port > 65_535 ||
    typeof e.secret !== 'string' ||
    !HEX_32_BYTES.test(e.secret)
  ) {
    throw unusable(path, 'is not the endpoint file of a synclog service of this version; remove it and restart synclog serve')
  }
  return { host: e.host, port: e.port, secret: Buffer.from(e.secret, 'hex') }
}

function proof(secret: Buffer, role: 'service' | 'client', nonce: string): Buffer {
  return createHmac('sha256', secret).update(`synclog ${role} ${nonce}`).digest()
}

function proves(line: string, expected: Buffer): boolean {
  return HEX_32_BYTES.test(line) && timingSafeEqual(Buffer.from(line, 'hex'), expected)
}

/**
 * The service's side: reads the client's nonce, answers with its own and its proof, and
 * gives whether the client's proof holds. A peer that sends anything else gets no more.
 */
export async function answerHandshake(socket: Socket, lines: SocketLines, secret: Buffer): Promise<boolean> {
  const theirs = await lines.next(64)
  if (!HEX_32_BYTES.test(theirs)) return false
  const ours = randomBytes(32).toString('hex')
  socket.write(`${ours}${proof(secret, 'service', theirs).toString('hex')}\n`)
  return proves(await lines.next(64), proof(secret, 'client', ours))
}

/** The CLI's side: sends a nonce, checks the service's proof, then proves itself. False: whoever answers is not the service. */
export async function offerHandshake(socket: Socket, lines: SocketLines, secret: Buffer): Promise<boolean> {
  const ours = randomBytes(32).toString('hex')
  socket.write(`${ours}\n`)
  const answer = await lines.next(128)
  const theirs = answer.slice(0, 64)
  if (!HEX_32_BYTES.test(theirs) || !proves(answer.slice(64), proof(secret, 'service', ours))) return false
  socket.write(`${proof(secret, 'client', theirs).toString('hex')}\n`)
  return true
}
