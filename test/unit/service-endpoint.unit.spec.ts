/** The endpoint file of a service on a long data-directory path, and the handshake that proves both sides hold its secret. */
import { chmod, chown, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { answerHandshake, newSecret, offerHandshake, readEndpointFile, writeEndpointFile } from '../../src/service/endpoint-file.js'
import { SocketLines } from '../../src/service/frames.js'
import { tempDir } from '../support/cli.js'

let dir = ''

beforeAll(async () => {
  dir = await tempDir('service-endpoint-unit')
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the endpoint file', () => {
  it('is written owner-only and read back as written', async () => {
    const file = join(dir, 'synclog.endpoint')
    const secret = newSecret()
    await writeEndpointFile(file, { host: '127.0.0.1', port: 40_123, secret })
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readEndpointFile(file)).toEqual({ host: '127.0.0.1', port: 40_123, secret })
    expect(readEndpointFile(join(dir, 'missing.endpoint'))).toBeUndefined()
  })

  it('is refused when others may read it, when it is a link, or when it names a non-local address', async () => {
    const file = join(dir, 'open.endpoint')
    await writeEndpointFile(file, { host: '127.0.0.1', port: 40_124, secret: newSecret() })
    await chmod(file, 0o640)
    expect(() => readEndpointFile(file)).toThrow(/can be read or written by other users \(mode 0640\)/)
    const link = join(dir, 'link.endpoint')
    await symlink(join(dir, 'synclog.endpoint'), link)
    expect(() => readEndpointFile(link)).toThrow(/is a symbolic link/)
    const remote = join(dir, 'remote.endpoint')
    await writeFile(remote, JSON.stringify({ version: 1, host: '10.0.0.5', port: 40_125, secret: newSecret().toString('hex') }), {
      mode: 0o600,
    })
    expect(() => readEndpointFile(remote)).toThrow(/is not the endpoint file of a synclog service/)
  })

  it.runIf(process.getuid?.() === 0)('is refused when it belongs to another user', async () => {
    const file = join(dir, 'theirs.endpoint')
    await writeEndpointFile(file, { host: '127.0.0.1', port: 40_126, secret: newSecret() })
    await chown(file, 65_534, 65_534)
    expect(() => readEndpointFile(file)).toThrow(/belongs to another user \(uid 65534\)/)
  })
})

/** Runs the handshake between a service holding `serviceSecret` and a client holding `clientSecret`; what each side concluded, and what the service read after. */
async function handshake(serviceSecret: Buffer, clientSecret: Buffer): Promise<{ service: boolean; client: boolean; afterwards: string }> {
  const server = createServer()
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  try {
    const serverSide = await accepted
    const serviceLines = new SocketLines(serverSide)
    const [service, proved] = await Promise.all([
      answerHandshake(serverSide, serviceLines, serviceSecret).catch(() => false),
      // As the CLI does: a service that did not prove itself gets nothing more, and the connection ends.
      offerHandshake(client, new SocketLines(client), clientSecret)
        .catch(() => false)
        .then((ok) => {
          if (ok) client.write('request\n')
          else client.end()
          return ok
        }),
    ])
    const afterwards = service ? await serviceLines.next(100) : ''
    serverSide.destroy()
    return { service, client: proved, afterwards }
  } finally {
    client.destroy()
    server.close()
  }
}

describe('the handshake', () => {
  it('lets a client holding the secret through, and its request follows', async () => {
    const secret = newSecret()
    expect(await handshake(secret, secret)).toEqual({ service: true, client: true, afterwards: 'request' })
  })

  it('stops both sides when the secrets differ: the client sends nothing more, the service reads nothing more', async () => {
    expect(await handshake(newSecret(), newSecret())).toEqual({ service: false, client: false, afterwards: '' })
  })
})
