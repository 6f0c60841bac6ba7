import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/', 'synclog-data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // The fold is pure: no I/O, no clock, no randomness, no logging.
    files: ['src/processor/**/*.ts', 'src/events/change-event.ts', 'src/events/sync-log-event.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'kafkajs', '@clickhouse/*', 'chdb', 'chdb/*', 'exceljs', 'pino', 'pino-*'], message: 'The fold is pure: keep I/O in adapters.' },
          { group: ['../oneroster/*', '../clickhouse/*', '../export/*', '../cli/*', '../pipeline/*', '../logging/*', '../config/*'], message: 'The fold must not depend on adapters.' },
        ],
      }],
      'no-restricted-globals': ['error', { name: 'Date', message: 'No clock in the fold: time arrives in events.' }, { name: 'process', message: 'No environment in the fold.' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'No randomness in the fold.' }],
    },
  },
)
