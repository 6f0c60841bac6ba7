/** The local protocol between the CLI and a running `synclog serve`: frames, the request line, which commands go there. */
import { describe, expect, it } from 'vitest'
import { FRAME, FrameReader, forwardedCommand, frame, parseRequest } from '../../src/service/frames.js'

const argv = (...args: string[]): string[] => ['node', 'synclog', ...args]
const request = (fields: Record<string, unknown>): string =>
  JSON.stringify({ version: 1, argv: argv('syncs'), cwd: '/home/registrar', env: {}, ...fields })

describe('frames', () => {
  it('come out whole and in order however the bytes are split', () => {
    const bytes = Buffer.concat([
      frame(FRAME.stdout, 'first line\n'),
      frame(FRAME.stderr, Buffer.alloc(70_000, 1)),
      frame(FRAME.stdout, ''),
      frame(FRAME.exit, '3'),
    ])
    for (const size of [1, 4, 5, 6, 4096, bytes.length]) {
      const reader = new FrameReader()
      const got: { kind: number; length: number }[] = []
      for (let i = 0; i < bytes.length; i += size)
        for (const f of reader.push(bytes.subarray(i, i + size))) got.push({ kind: f.kind, length: f.payload.length })
      expect(got, `chunks of ${size}`).toEqual([
        { kind: 1, length: 11 },
        { kind: 2, length: 70_000 },
        { kind: 1, length: 0 },
        { kind: 3, length: 1 },
      ])
    }
  })
})

describe('which commands run in the service', () => {
  it('sends every command that needs the store, wherever the global options stand', () => {
    for (const args of [
      ['import', 'night1', '--tenant', 'd'],
      ['--data', 'd', 'log'],
      ['log', '--data', 'd'],
      ['--log-level', 'warn', 'export', '--name', 'n', '--out', 'o'],
      ['token', 'list'],
      ['approve', 's'],
      ['reject', 's'],
      ['ingest', 'f'],
      ['syncs'],
      ['summary', 's'],
      ['drilldown', 's'],
      ['history'],
      ['daily'],
      ['report', 's'],
      ['compare', 'a', 'b'],
    ]) {
      expect(forwardedCommand(argv(...args)), args.join(' ')).toBe(true)
    }
  })

  it('runs help, the version, serve, demo, run and publish here', () => {
    for (const args of [
      [],
      ['--help'],
      ['log', '--help'],
      ['-V'],
      ['help', 'log'],
      ['serve'],
      ['demo'],
      ['run', 'all'],
      ['publish', 'x'],
      ['--data', 'log', 'serve'],
    ]) {
      expect(forwardedCommand(argv(...args)), args.join(' ')).toBe(false)
    }
  })
})

describe('the request line', () => {
  it('keeps only the SYNCLOG_* and CLICKHOUSE_* variables', () => {
    const parsed = parseRequest(
      request({ env: { SYNCLOG_DATA: 'd', CLICKHOUSE_URL: 'u', PATH: '/bin', NODE_OPTIONS: '--require x', constructor: 'x' } }),
    )
    expect({ ...parsed.env }).toEqual({ SYNCLOG_DATA: 'd', CLICKHOUSE_URL: 'u' })
  })

  it('refuses what a CLI never sends, before any command runs', () => {
    for (const line of [
      '',
      'not json',
      'null',
      '[]',
      request({ version: 2 }),
      request({ argv: 'syncs' }),
      request({ argv: [1] }),
      request({ cwd: 'relative' }),
      request({ env: null }),
      request({ argv: argv('serve', '--port', '0') }),
      request({ argv: argv('demo') }),
    ]) {
      expect(() => parseRequest(line), line).toThrow()
    }
  })
})
