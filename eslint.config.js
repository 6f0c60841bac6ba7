import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import noIdKeyedObjects from './eslint-rules/no-id-keyed-objects.js'
import oneCsvWriter from './eslint-rules/one-csv-writer.js'

/** synclog's own rules (eslint-rules/): each keeps one class of hostile-input bug from coming back. */
const synclog = { rules: { 'no-id-keyed-objects': noIdKeyedObjects, 'one-csv-writer': oneCsvWriter } }

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.cache/', 'synclog-data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The fold is pure: no I/O, no clock, no randomness, no logging. So are the event
    // shapes and the instant grammar it reads them with.
    files: ['src/processor/**/*.ts', 'src/events/change-event.ts', 'src/events/sync-log-event.ts', 'src/events/instant.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'fs',
                'path',
                'os',
                'crypto',
                'child_process',
                'kafkajs',
                '@clickhouse/*',
                'chdb',
                'chdb/*',
                'exceljs',
                'pino',
                'pino-*',
              ],
              message: 'The fold is pure: keep I/O in adapters.',
            },
            {
              group: ['../oneroster/*', '../clickhouse/*', '../export/*', '../cli/*', '../pipeline/*', '../logging/*', '../config/*'],
              message: 'The fold must not depend on adapters.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Date', message: 'No clock in the fold: time arrives in events.' },
        { name: 'process', message: 'No environment in the fold.' },
      ],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'No randomness in the fold.' }],
    },
  },
  {
    // Identifiers are data, never keys of plain objects: an id '__proto__' or 'toString' must not reach Object.prototype.
    files: ['src/**/*.ts', 'web/src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { synclog },
    rules: { 'synclog/no-id-keyed-objects': 'error' },
  },
  {
    // Node's recursive mkdir spins for ever under /proc/self or past a dangling link; makeDirectory always ends.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression:matches([callee.name=/^mkdir(Sync)?$/], [callee.property.name=/^mkdir(Sync)?$/]) Property[key.name='recursive']",
          message: 'Use makeDirectory (src/paths/make-directory.ts): recursive mkdir can loop for ever.',
        },
      ],
    },
  },
  {
    // One CSV writer: every CSV output goes through writeCsv, which quotes every field that needs it and
    // neutralizes formulas on every line of a cell. The demo's OneRoster writer is exempt: it writes SIS
    // input for the importer, faithfully (tests feed it formula-like values on purpose), not an output.
    files: ['src/**/*.ts', 'web/src/**/*.ts'],
    ignores: ['src/demo/write-oneroster.ts'],
    plugins: { synclog },
    rules: { 'synclog/one-csv-writer': 'error' },
  },
)
