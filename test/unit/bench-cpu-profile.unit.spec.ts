/**
 * How the benchmark harness reads a V8 CPU profile to say where a missed target's time
 * goes (scripts/bench/cpu-profile.ts): self time by module and function, and, for a child
 * that reads its input before the timed part, only the window the measured function ran in.
 */
import { describe, expect, it } from 'vitest'
import { summarize, type Profile } from '../../scripts/bench/cpu-profile.js'

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 })

/** root → (program), (garbage collector), readInput, fold → lookup. */
const PROFILE: Profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5] },
    { id: 2, callFrame: frame('(garbage collector)') },
    { id: 3, callFrame: frame('readInput', 'file:///repo/scripts/bench/stages/fold.ts') },
    { id: 4, callFrame: frame('synclogFold', 'file:///repo/scripts/bench/stages/fold.ts'), children: [6] },
    { id: 5, callFrame: frame('(idle)') },
    { id: 6, callFrame: frame('get', 'file:///repo/src/processor/roster-store.ts') },
  ],
  // reading (with a collection), then the fold (with a collection in the middle), then idle
  samples: [3, 2, 3, 4, 6, 2, 6, 4, 5, 5],
  timeDeltas: [100, 100, 100, 100, 100, 100, 100, 100, 100, 100],
}

describe("a benchmark's CPU profile", () => {
  it('sums self time by module and by function over the whole run', () => {
    const { total, byModule } = summarize(PROFILE)
    expect(total).toBe(1000)
    expect(Object.fromEntries(byModule)).toEqual({
      'scripts/bench': 400,
      'src/processor': 200,
      '(garbage collector)': 200,
      '(idle)': 200,
    })
  })

  it("counts only the measured function's window, with the collections inside it and none before it", () => {
    const { total, byFunction } = summarize(PROFILE, 'synclogFold')
    expect(total).toBe(500)
    expect(Object.fromEntries(byFunction.map(([f, us]) => [f.split('  ')[0], us]))).toEqual({
      get: 200,
      synclogFold: 200,
      '(garbage collector)': 100,
    })
  })

  it('says so when the function never ran', () => {
    expect(() => summarize(PROFILE, 'neverCalled')).toThrow('no sample inside neverCalled()')
  })
})
