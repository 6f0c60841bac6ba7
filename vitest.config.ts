import { defineConfig } from 'vitest/config'

// chDB is a native, process-wide engine: every test file runs in its own forked process.
// Files named *.kafka.spec.ts need the real broker and registry, which their project starts.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'core', include: ['test/**/*.spec.ts'], exclude: ['test/**/*.kafka.spec.ts'] } },
      {
        extends: true,
        test: { name: 'kafka', include: ['test/**/*.kafka.spec.ts'], globalSetup: ['test/support/services.ts'], testTimeout: 180_000 },
      },
    ],
  },
})
