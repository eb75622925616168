import { describe, expect, it } from 'vitest';
import type { RunState } from './run.js';
import { isStateHeader, joinState, storedState, wholeStateChanges } from './state-slots.js';

/** A state with a subflow frame called with its caller's item, and a frame whose `last` is its last step's output. */
function sample(): RunState {
  const item = { order: { id: 'o-1', lines: [1, 2, 3] } };
  const b = { n: 2 };
  return {
    frames: [
      { graph: 'action:main', at: 'call', steps: { a: { n: 1 }, b }, last: b, depth: 0, attempt: 1, item },
      { graph: 'subflow:sub', at: 'x', steps: {}, last: null, depth: 1, attempt: 2, item, waitingForRunId: 'child-1' },
    ],
    vars: { zeta: 1, alpha: [1, 2] },
    outputs: { report: { ok: true } },
    event: { name: 'e' },
    suspension: { kind: 'timer', stepId: 'w', graph: 'action:main', stepSeq: 3, since: 10, until: 20 },
    stepSeq: 3,
    stepCount: 4,
    stepLogs: true,
    historyCount: 5,
    hasItems: false,
  };
}

describe('state slots', () => {
  it('rebuilds a state from its header and slots exactly, key order included', () => {
    const state = sample();
    const whole = wholeStateChanges(state);
    const rebuilt = joinState(JSON.parse(JSON.stringify(whole.header)), whole.put.map((slot) => [slot.key, JSON.parse(JSON.stringify(slot.value))] as const));
    expect(JSON.stringify(rebuilt.vars)).toBe(JSON.stringify(state.vars));
    expect(rebuilt).toEqual(state);
  });

  it('stores neither a shared item nor a frame’s last output twice, and rebuilds them shared', () => {
    const state = sample();
    const whole = wholeStateChanges(state);
    // One item slot for both frames; `last` named by its step, no slot of its own.
    expect(whole.put.map((slot) => slot.key).filter((key) => key.endsWith(':i'))).toEqual(['f0:i']);
    expect(whole.put.map((slot) => slot.key)).not.toContain('f0:l');
    const rebuilt = joinState(whole.header, whole.put.map((slot) => [slot.key, slot.value] as const));
    expect(rebuilt.frames[1]!.item).toBe(rebuilt.frames[0]!.item);
    expect(rebuilt.frames[0]!.last).toBe(rebuilt.frames[0]!.steps.b);
  });

  it('keeps the header small whatever the run carries: no value, no step id', () => {
    const state = sample();
    state.frames[0]!.item = { blob: 'x'.repeat(100_000) };
    for (let i = 0; i < 1000; i++) state.frames[0]!.steps[`s${i}`] = { i };
    expect(JSON.stringify(wholeStateChanges(state).header).length).toBeLessThan(600);
  });

  it('reads a state stored whole before slots as it is', () => {
    const state = sample();
    expect(isStateHeader(state)).toBe(false);
    expect(storedState(state, [])).toBe(state);
  });
});
