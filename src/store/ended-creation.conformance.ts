/**
 * The "created already ended" part of the store conformance suite: a run whose first steps only
 * computed from its own state and ended it is created once, in its end state (run.ts, `NewRun`),
 * and every read sees exactly what a run created ACTIVE and then ended by a transition shows.
 * Run by `runStoreConformance` against every store.
 */
import { describe, expect, it } from 'vitest';
import type { NewRun, RunEventBody, RunState } from '../core/run.js';
import type { Store } from '../core/store.js';

const T0 = Date.UTC(2026, 0, 1);

const status = (s: 'ACTIVE' | 'SUCCEEDED' | 'FAILED', extra: Partial<Extract<RunEventBody, { kind: 'status' }>> = {}): RunEventBody => ({ kind: 'status', status: s, ...extra });
const log = (code: string): RunEventBody => ({ kind: 'log', entry: { time: T0, code, description: `${code} happened` } });

/** Registers the tests; `store()` is the fresh store of the current test, `newRun` makes a run to create. */
export function describeEndedCreationConformance(store: () => Store, newRun: (overrides: Partial<NewRun>) => NewRun): void {
  describe('a run created already ended', () => {
    function ended(runId: string, overrides: Partial<NewRun>, state?: RunState): NewRun {
      const base = newRun({ runId, ...overrides });
      return { ...base, readyAt: null, state: state ?? { ...base.state, frames: [], stepSeq: 1 } };
    }

    it('reads back ended, with its output, events and no lease, and is never claimed', async () => {
      const s = store();
      const events = [status('ACTIVE'), log('FlowStarted'), log('StepSucceeded'), log('FlowSucceeded'), status('SUCCEEDED', { output: { total: 3 } })];
      const run = ended('ended-ok', { status: 'SUCCEEDED', endTime: T0 + 5, output: { total: 3 }, runError: null });
      const created = await s.createRun({ run, events });
      expect(created.lease).toBeNull();
      const read = await s.getRun('ended-ok');
      expect(read).toMatchObject({ status: 'SUCCEEDED', endTime: T0 + 5, output: { total: 3 }, runError: null, leaseOwner: null, lastSeq: 5, version: 0 });
      expect(read!.state).toEqual(run.state);
      expect({ ...created.run, state: null }).toEqual({ ...read, state: null });
      // Written once, at its end: its events and updatedAt carry that time, not its start's.
      expect(read!.updatedAt).toBe(T0 + 5);
      expect(created.run.updatedAt).toBe(T0 + 5);
      expect(new Set((await s.getRunEvents('ended-ok')).map((e) => e.time))).toEqual(new Set([T0 + 5]));
      expect((await s.getRunEvents('ended-ok')).map((e) => [e.seq, e.kind])).toEqual([
        [1, 'status'],
        [2, 'log'],
        [3, 'log'],
        [4, 'log'],
        [5, 'status'],
      ]);
      expect((await s.listRuns({ status: 'SUCCEEDED' })).runs.map((r) => r.runId)).toEqual(['ended-ok']);
      expect((await s.listRuns({ status: 'ACTIVE' })).runs).toEqual([]);
      expect(await s.countRuns({ endTimeFrom: T0 + 5, endTimeTo: T0 + 6 })).toBe(1);
      expect(await s.claimRuns({ owner: 'w1', limit: 10, now: T0 + 1_000_000, leaseExpiresAt: T0 + 2_000_000 })).toEqual([]);
      expect(await s.claimRun({ runId: 'ended-ok', owner: 'w1', now: T0 + 1_000_000, leaseExpiresAt: T0 + 2_000_000 })).toBeNull();
    });

    it('keeps a failed run\'s error, refuses a later transition, and is deleted by retention like any ended run', async () => {
      const s = store();
      const runError = { code: 'OUT_OF_STOCK', description: 'no stock', stepId: 'check' };
      await s.createRun({ run: ended('ended-failed', { status: 'FAILED', endTime: T0 + 7, runError }), events: [status('ACTIVE'), status('FAILED', { error: runError })] });
      expect(await s.getRun('ended-failed')).toMatchObject({ status: 'FAILED', endTime: T0 + 7, output: null, runError });
      await expect(s.recordTransition({ runId: 'ended-failed', lease: { owner: 'w1', fencingToken: 1 }, expectedVersion: 0, at: T0 + 8, patch: {}, events: [log('Late')] })).rejects.toMatchObject({ code: 'LEASE_LOST' });
      expect(await s.cancelRun({ runId: 'ended-failed', at: T0 + 9, events: [], runError: { code: 'CANCELED', description: 'late' } })).toBeNull();
      expect(await s.deleteEndedRuns({ endedBefore: T0 + 8, limit: 10 })).toBe(1);
      expect(await s.getRun('ended-failed')).toBeNull();
    });

    it('keeps a large ended state whole', async () => {
      const s = store();
      const base = newRun({});
      const big = 'x'.repeat(20_000);
      const state: RunState = { ...base.state, frames: [], vars: { big }, outputs: { copy: big }, stepSeq: 40 };
      await s.createRun({ run: ended('ended-large', { status: 'SUCCEEDED', endTime: T0 + 1, output: { copy: big } }, state), events: [status('ACTIVE'), status('SUCCEEDED', { output: { copy: big } })] });
      const read = await s.getRun('ended-large');
      expect(read!.state).toEqual(state);
      expect(read!.output).toEqual({ copy: big });
    });
  });
}
