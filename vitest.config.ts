import { defineConfig } from 'vitest/config'

// chDB is a native, process-wide engine: every test file runs in its own forked process.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
