/**
 * Conformance of a run's stored state as header and slots (core/state-slots.ts): a transition's
 * `stateChanges` write only what they name, frames go with their key prefix, a refused or repeated
 * transition writes no slot, retention takes the slots with the run, and a small state written
 * whole in the run row (inline) and the same run in slots read back alike. Run by
 * `runStoreConformance`.
 */
import { describe, expect, it } from 'vitest';
import type { Frame, NewRun, RunRecord, RunState } from '../core/run.js';
import type { Store, Transition } from '../core/store.js';
import { INLINE_STATE_MAX_BYTES, framePrefix, frameSlots, stateHeader, stepKey, varKey, wholeStateChanges, type StateChanges } from '../core/state-slots.js';

/** What the state-slot cases need of the main suite. */
export interface StateSlotConformanceHelpers {
  store: () => Store;
  leased: (overrides?: Partial<NewRun>) => Promise<{ run: RunRecord; token: number }>;
  transition: (run: Pick<RunRecord, 'runId' | 'version'>, token: number, extra?: Partial<Transition>) => Transition;
  t0: number;
}

const frame = (extra: Partial<Frame> = {}): Frame => ({ graph: 'action:main', at: 'b', steps: {}, last: null, depth: 0, attempt: 1, ...extra });

/** A state whose frame completed step `a` (its `last` is that very output) and carries an item too large to be stored inline. */
function startState(): RunState {
  const a = { n: 1 };
  return {
    frames: [frame({ steps: { a }, last: a, item: { doc: 'x'.repeat(INLINE_STATE_MAX_BYTES) } })],
    vars: { keep: 1, drop: 2 },
    outputs: { o: 'x' },
    stepSeq: 1,
    stepLogs: true,
    historyCount: 0,
  };
}

/** Changes of `next` that write exactly `put` and delete `deleted` / `prefixes`. */
function changes(next: RunState, put: StateChanges['put'], deleted: string[] = [], prefixes: string[] = []): StateChanges {
  return { header: stateHeader(next), put, delete: deleted, deletePrefixes: prefixes, replace: false };
}

/** Registers the state-slot cases. */
export function describeStateSlotConformance(h: StateSlotConformanceHelpers): void {
  describe('state slots', () => {
    it('records a transition as the slots it changes and rebuilds the whole state from them', async () => {
      const { run, token } = await h.leased({ state: startState() });
      const next = startState();
      const b = { n: 2 };
      next.frames[0] = { ...next.frames[0]!, at: 'c', steps: { ...next.frames[0]!.steps, b }, last: b };
      next.stepSeq = 2;
      next.vars = { keep: 1, added: [1] };
      const after = await h.store().recordTransition(
        h.transition(run, token, { patch: { state: next }, stateChanges: changes(next, [{ key: stepKey(0, 'b'), value: b }, { key: varKey('added'), value: [1] }], [varKey('drop')]) }),
      );
      // The recorded run hands back the caller's own state and reads back no input.
      expect(after.state).toBe(next);
      expect(after).not.toHaveProperty('input');
      const read = await h.store().getRun(run.runId);
      expect(read?.state).toEqual(next);
      expect(read?.input).toEqual(run.input);
      // The frame's `last` is its last step's output.
      expect(read?.state.frames[0]!.last).toEqual({ n: 2 });
      expect(Object.keys(read!.state.frames[0]!.steps)).toEqual(['a', 'b']);
    });

    it('keeps every slot a transition does not name, and writes a state given without changes whole', async () => {
      const { run, token } = await h.leased({ state: startState() });
      const next = startState();
      next.vars.keep = 99; // not named by the changes: stays as stored
      const first = await h.store().recordTransition(h.transition(run, token, { patch: { state: next }, stateChanges: changes(next, []) }));
      expect((await h.store().getRun(run.runId))?.state.vars).toEqual({ keep: 1, drop: 2 });
      const whole: RunState = { ...startState(), vars: { only: true } };
      await h.store().recordTransition(h.transition(first, token, { patch: { state: whole } }));
      expect((await h.store().getRun(run.runId))?.state).toEqual(whole);
    });

    it('deletes a popped frame with every slot under it, so a frame pushed in its place starts empty', async () => {
      const inner = frame({ graph: 'subflow:s', at: 'y', steps: { x: { deep: 1 } }, item: { sub: true } });
      const { run, token } = await h.leased({ state: { ...startState(), frames: [frame(), inner] } });
      const popped: RunState = { ...startState(), frames: [frame()] };
      const first = await h.store().recordTransition(h.transition(run, token, { patch: { state: popped }, stateChanges: changes(popped, [], [], [framePrefix(1)]) }));
      const pushed: RunState = { ...startState(), frames: [frame(), frame({ graph: 'subflow:t', at: 'z', item: { other: 2 } })] };
      await h.store().recordTransition(h.transition(first, token, { patch: { state: pushed }, stateChanges: changes(pushed, frameSlots(pushed.frames, 1, undefined)) }));
      const read = await h.store().getRun(run.runId);
      expect(read?.state.frames[1]).toEqual({ graph: 'subflow:t', at: 'z', steps: {}, depth: 0, attempt: 1, item: { other: 2 }, last: null });
      expect(read?.state).toEqual(pushed);
    });

    it('writes no slot of a refused transition, and keeps the first of a repeated one', async () => {
      const { run, token } = await h.leased({ state: startState() });
      const withX = (x: number): RunState => ({ ...startState(), vars: { keep: 1, drop: 2, x } });
      const refused = h.store().recordTransition(h.transition(run, token + 1, { patch: { state: withX(1) }, stateChanges: changes(withX(1), [{ key: varKey('x'), value: 1 }]) }));
      await expect(refused).rejects.toMatchObject({ code: 'LEASE_LOST' });
      expect((await h.store().getRun(run.runId))?.state.vars).toEqual({ keep: 1, drop: 2 });
      const t = h.transition(run, token, { patch: { state: withX(2) }, stateChanges: changes(withX(2), [{ key: varKey('x'), value: 2 }]) });
      await h.store().recordTransition(t);
      await h.store().recordTransition({ ...t, patch: { state: withX(3) }, stateChanges: changes(withX(3), [{ key: varKey('x'), value: 3 }]) });
      expect((await h.store().getRun(run.runId))?.state.vars).toEqual({ keep: 1, drop: 2, x: 2 });
    });

    it('reads back a state written inline, and the same run moving to slots and back again, leaving no slot behind', async () => {
      const small = (vars: Record<string, unknown>): RunState => ({ frames: [frame({ steps: { a: { n: 1 } }, item: { small: true } })], vars, outputs: {}, stepSeq: 1, stepLogs: true, historyCount: 0 });
      const { run, token } = await h.leased({ state: small({ created: 1 }) });
      expect((await h.store().getRun(run.runId))?.state).toEqual(small({ created: 1 }));
      const inline1 = small({ v: 1 });
      let at = await h.store().recordTransition(h.transition(run, token, { patch: { state: inline1 }, stateChanges: { inline: true, dropSlots: false } }));
      expect((await h.store().getRun(run.runId))?.state).toEqual(inline1);
      // Past the bound: one whole write to slots, then changes to them.
      const large = { ...startState(), vars: { v: 2, gone: 'soon' } };
      at = await h.store().recordTransition(h.transition(at, token, { patch: { state: large }, stateChanges: wholeStateChanges(large) }));
      const changed = { ...large, vars: { v: 3, gone: 'soon' } };
      at = await h.store().recordTransition(h.transition(at, token, { patch: { state: changed }, stateChanges: changes(changed, [{ key: varKey('v'), value: 3 }]) }));
      expect((await h.store().getRun(run.runId))?.state).toEqual(changed);
      // Small again: whole in the row, its slots dropped; then slots again hold only the new state's.
      const inline2 = small({ v: 4 });
      at = await h.store().recordTransition(h.transition(at, token, { patch: { state: inline2 }, stateChanges: { inline: true, dropSlots: true } }));
      expect((await h.store().getRun(run.runId))?.state).toEqual(inline2);
      const large2 = { ...startState(), vars: { v: 5 } };
      at = await h.store().recordTransition(h.transition(at, token, { patch: { state: large2 }, stateChanges: wholeStateChanges(large2) }));
      expect((await h.store().getRun(run.runId))?.state).toEqual(large2);
      // Changes that reach a row holding its state whole write the transition's state whole instead.
      const inline3 = small({ v: 6, kept: true });
      at = await h.store().recordTransition(h.transition(at, token, { patch: { state: inline3 }, stateChanges: { inline: true, dropSlots: true } }));
      const afterDelta = small({ v: 7, kept: true });
      await h.store().recordTransition(h.transition(at, token, { patch: { state: afterDelta }, stateChanges: changes(afterDelta, [{ key: varKey('v'), value: 7 }]) }));
      expect((await h.store().getRun(run.runId))?.state).toEqual(afterDelta);
    });

    it('deletes the slots of a run retention deletes: a run created again under its id starts with only its own', async () => {
      const { run, token } = await h.leased({ runId: 'slots-retained', state: startState() });
      await h.store().recordTransition(h.transition(run, token, { patch: { status: 'SUCCEEDED', output: null, runError: null, endTime: h.t0 + 10, readyAt: null } }));
      expect(await h.store().deleteEndedRuns({ endedBefore: h.t0 + 100, limit: 10 })).toBeGreaterThanOrEqual(1);
      const fresh: RunState = { frames: [frame()], vars: {}, outputs: {}, stepSeq: 0, stepLogs: true, historyCount: 0 };
      await h.leased({ runId: 'slots-retained', state: fresh });
      expect((await h.store().getRun('slots-retained'))?.state).toEqual(fresh);
    });
  });
}
