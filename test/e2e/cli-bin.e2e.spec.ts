/** Regression: after a clean install `npx synclog` failed with "Permission denied" (tsc wrote the bin without +x). */
import { spawnSync } from 'node:child_process'
import { accessSync, constants, readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { CLI } from '../support/cli.js'

it('builds a synclog bin that runs by itself, as npx runs it', () => {
  expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true)
  expect(() => accessSync(CLI, constants.X_OK)).not.toThrow()
  const run = spawnSync(CLI, ['--version'], { encoding: 'utf8' })
  expect(run.status).toBe(0)
  expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
})
