/** A webhook receiver for the alert tests: a real HTTP server (node:http) that records what it gets. */
import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

/** A receiver that records every request and answers with `answer(n)` (n: its 1-based request count); null: never answers. */
export interface Receiver {
  readonly url: string
  readonly received: Received[]
  close(): Promise<void>
}

export async function startReceiver(answer: (n: number) => number | null): Promise<Receiver> {
  const received: Received[] = []
  const hanging: ServerResponse[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      const status = answer(received.length)
      if (status === null) hanging.push(res)
      else res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks/synclog?token=query-secret`,
    received,
    async close() {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Whether the request's signature is the HMAC of its timestamp and body with `secret`, as docs/alerts.md tells receivers to check. */
export function verifies(x: Received, secret: string): boolean {
  const timestamp = String(x.headers['x-synclog-timestamp'])
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${x.body}`).digest('hex')}`
  return x.headers['x-synclog-signature'] === expected
}
