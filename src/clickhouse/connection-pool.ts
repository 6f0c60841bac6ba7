/**
 * A few chDB connections behind one client: each query goes to the connection with the
 * fewest queries in flight. chDB runs one query at a time per connection (per Session) and
 * several connections at once, so the page's small reads, the API's and the CLI's run side
 * by side instead of queuing behind one another (src/clickhouse/lanes.ts).
 *
 * A query's result is whole once its call resolves (chDB materialises it), so a connection
 * is free again as soon as the call settles.
 */
import type { ClickHouseClientConfigOptions } from '@clickhouse/client'

type ClientConnection = NonNullable<ClickHouseClientConfigOptions['connection']>

export function pooledConnection(open: () => ClientConnection, size: number): ClientConnection {
  if (!Number.isInteger(size) || size < 1) throw new Error(`a connection pool needs at least one connection (got ${size})`)
  const members = [{ connection: open(), busy: 0 }]
  const pick = (): (typeof members)[number] => {
    let best = members[0]!
    for (const m of members) if (m.busy < best.busy) best = m
    // Every connection busy: open another while there is room.
    if (best.busy > 0 && members.length < size) {
      best = { connection: open(), busy: 0 }
      members.push(best)
    }
    return best
  }
  const run = async <T>(call: (c: ClientConnection) => Promise<T>): Promise<T> => {
    const member = pick()
    member.busy++
    try {
      return await call(member.connection)
    } finally {
      member.busy--
    }
  }
  return {
    ping: (p) => run((c) => c.ping(p)),
    query: (p) => run((c) => c.query(p)),
    exec: (p) => run((c) => c.exec(p)),
    command: (p) => run((c) => c.command(p)),
    insert: (p) => run((c) => c.insert(p)),
    close: async () => {
      await Promise.all(members.map((m) => m.connection.close()))
    },
  }
}
