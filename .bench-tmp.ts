import { readOneRosterBundle } from './src/oneroster/read-bundle.js'
for (const path of process.argv.slice(2)) {
  const t = performance.now(); let n = 0; let maxRss = 0
  for await (const e of readOneRosterBundle({ path, tenant: 't', syncId: 's', occurredAt: '2025-01-01T00:00:00Z' })) {
    n++; if (n % 100000 === 0) maxRss = Math.max(maxRss, process.memoryUsage().rss)
    if (e.type === 'SyncFailed') console.log(e.reason)
  }
  console.log(path, n, 'events', ((performance.now() - t) / 1000).toFixed(2), 's', 'maxRss MB', (maxRss / 1e6).toFixed(0))
}
