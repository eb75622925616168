/**
 * The run-tree part of the store conformance suite (issue 12): the count of runs per tree lives in
 * the store and is checked by the transaction that creates runs, a canceled tree takes no new
 * run, and claims pass over the trees and owners they are told to skip.
 */
import { describe, expect, it } from 'vitest';
import type { NewRun, RunRecord } from '../core/run.js';
import type { Store, Transition } from '../core/store.js';

/** What the tree tests need from the main suite. */
export interface RunTreeConformanceHelpers {
  store: () => Store;
  sampleRun: (overrides?: Partial<NewRun>) => NewRun;
  leased: (overrides?: Partial<NewRun>) => Promise<{ run: RunRecord; token: number }>;
  transition: (run: Pick<RunRecord, 'runId' | 'version'>, token: number, extra?: Partial<Transition>) => Transition;
  t0: number;
}

/** Registers the run-tree tests against the store the main suite made for each test. */
export function describeRunTreeConformance(h: RunTreeConformanceHelpers): void {
  describe('run trees', () => {
    const child = (parent: Pick<RunRecord, 'runId' | 'treeId' | 'depth'>, runId: string): { run: NewRun; events: [] } => ({
      run: h.sampleRun({ runId, parentRunId: parent.runId, rootRunId: runId, treeId: parent.treeId, detached: true }),
      events: [],
    });

    it('counts the runs a tree creates, launches included, and refuses one past maxRunsPerTree writing nothing', async () => {
      const root = await h.leased({ runId: 'tree-root' });
      expect(root.run.treeId).toBe('tree-root');
      expect(await h.store().getRunTree('tree-root')).toBeNull();
      const first = await h.store().recordTransition(h.transition(root.run, root.token, { createRuns: [child(root.run, 'tree-a'), child(root.run, 'tree-b')], maxRunsPerTree: 3 }));
      expect(await h.store().getRunTree('tree-root')).toEqual({ treeId: 'tree-root', runCount: 3, canceled: false });
      expect(await h.store().getRun('tree-a')).toMatchObject({ treeId: 'tree-root', rootRunId: 'tree-a', detached: true });

      const refused = h.store().recordTransition(h.transition(first, root.token, { patch: { readyAt: 1 }, events: [{ kind: 'log', entry: { time: h.t0, code: 'X', description: 'x' } }], createRuns: [child(first, 'tree-c')], maxRunsPerTree: 3 }));
      await expect(refused).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxRunsPerTree', max: 3, value: 4 } });
      expect(await h.store().getRun('tree-c')).toBeNull();
      expect(await h.store().getRun('tree-root')).toMatchObject({ version: first.version, lastSeq: first.lastSeq });
      expect(await h.store().getRunTree('tree-root')).toMatchObject({ runCount: 3 });
      // The same transition without the creation goes through: the refusal held nothing back.
      await expect(h.store().recordTransition(h.transition(first, root.token, { patch: { readyAt: 1 } }))).resolves.toMatchObject({ version: first.version + 1 });
    });

    it('counts a launched run of a launched run in the top tree', async () => {
      const root = await h.leased({ runId: 'deep-root' });
      await h.store().recordTransition(h.transition(root.run, root.token, { createRuns: [{ ...child(root.run, 'deep-a'), lease: { owner: 'w1', expiresAt: h.t0 + 30_000 } }], maxRunsPerTree: 2 }));
      const a = (await h.store().getRun('deep-a'))!;
      await expect(h.store().recordTransition(h.transition(a, 1, { createRuns: [child(a, 'deep-b')], maxRunsPerTree: 2 }))).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
      expect(await h.store().getRun('deep-b')).toBeNull();
    });

    it('of transitions racing to fill a tree, exactly those within the budget create their runs', async () => {
      const root = await h.leased({ runId: 'race-root' });
      await h.store().recordTransition(
        h.transition(root.run, root.token, { createRuns: ['race-p1', 'race-p2', 'race-p3'].map((id) => ({ ...child(root.run, id), lease: { owner: 'w1', expiresAt: h.t0 + 30_000 } })), maxRunsPerTree: 6 }),
      );
      const parents = await Promise.all(['race-p1', 'race-p2', 'race-p3'].map(async (id) => (await h.store().getRun(id))!));
      // Submitted together: PostgreSQL records them in one group commit (flowrun_record_transitions).
      const results = await Promise.allSettled(parents.map((p) => h.store().recordTransition(h.transition(p, 1, { createRuns: [child(p, `${p.runId}-kid`)], maxRunsPerTree: 6 }))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['LIMIT_EXCEEDED']);
      const kids = await Promise.all(parents.map((p) => h.store().getRun(`${p.runId}-kid`)));
      expect(kids.filter(Boolean)).toHaveLength(2);
      expect(await h.store().getRunTree('race-root')).toMatchObject({ runCount: 6 });
    });

    it('refuses every creation into a canceled tree, even without a budget; marking is idempotent', async () => {
      const root = await h.leased({ runId: 'doomed-root' });
      expect(await h.store().markTreeCanceled({ treeId: 'doomed-root', at: h.t0 })).toEqual({ treeId: 'doomed-root', runCount: 1, canceled: true });
      expect(await h.store().markTreeCanceled({ treeId: 'doomed-root', at: h.t0 + 1 })).toEqual({ treeId: 'doomed-root', runCount: 1, canceled: true });
      await expect(h.store().recordTransition(h.transition(root.run, root.token, { createRuns: [child(root.run, 'doomed-kid')] }))).rejects.toMatchObject({ code: 'CANCELED' });
      expect(await h.store().getRun('doomed-kid')).toBeNull();
      expect(await h.store().getRun('doomed-root')).toMatchObject({ version: root.run.version });
      // A transition creating nothing still records: the run itself is not canceled by the mark.
      await expect(h.store().recordTransition(h.transition(root.run, root.token))).resolves.toMatchObject({ version: root.run.version + 1 });
    });

    it('counts a run createRun adds to an existing tree (an EMIT\'s event started it) and refuses one past maxRunsPerTree writing nothing', async () => {
      // An event-started run: no parent, its own root, the emitting run's tree.
      const joiner = (runId: string): NewRun => h.sampleRun({ runId, rootRunId: runId, treeId: 'chain-root' });
      await h.leased({ runId: 'chain-root' });
      await h.store().createRun({ run: joiner('chain-1'), maxRunsPerTree: 3 });
      await h.store().createRun({ run: joiner('chain-2'), events: [{ kind: 'log', entry: { time: h.t0, code: 'X', description: 'x' } }], maxRunsPerTree: 3 });
      expect(await h.store().getRunTree('chain-root')).toEqual({ treeId: 'chain-root', runCount: 3, canceled: false });
      await expect(h.store().createRun({ run: joiner('chain-3'), maxRunsPerTree: 3 })).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxRunsPerTree', max: 3, value: 4 } });
      expect(await h.store().getRun('chain-3')).toBeNull();
      expect(await h.store().getRunTree('chain-root')).toMatchObject({ runCount: 3 });
      // Several at once (the PostgreSQL store records them in one batch): only those within the budget.
      const more = await Promise.allSettled(['chain-4', 'chain-5', 'chain-6'].map((id) => h.store().createRun({ run: joiner(id), maxRunsPerTree: 5 })));
      expect(more.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      expect(more.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['LIMIT_EXCEEDED']);
      expect(await h.store().getRunTree('chain-root')).toMatchObject({ runCount: 5 });
      // A taken id is still a conflict, and counts nothing.
      await expect(h.store().createRun({ run: joiner('chain-1'), maxRunsPerTree: 100 })).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await h.store().getRunTree('chain-root')).toMatchObject({ runCount: 5 });
      // A run starting its own tree is not counted.
      await h.store().createRun({ run: h.sampleRun({ runId: 'chain-other' }), maxRunsPerTree: 1 });
      expect(await h.store().getRunTree('chain-other')).toBeNull();
    });

    it('refuses a run createRun adds to a canceled tree, even without a budget', async () => {
      await h.leased({ runId: 'halted-root' });
      await h.store().markTreeCanceled({ treeId: 'halted-root', at: h.t0 });
      await expect(h.store().createRun({ run: h.sampleRun({ runId: 'halted-1', rootRunId: 'halted-1', treeId: 'halted-root' }) })).rejects.toMatchObject({ code: 'CANCELED' });
      expect(await h.store().getRun('halted-1')).toBeNull();
      expect(await h.store().getRunTree('halted-root')).toMatchObject({ runCount: 1, canceled: true });
    });

    it('claims pass over the trees and owners they skip', async () => {
      await h.store().createRun({ run: h.sampleRun({ runId: 'skip-1', treeId: 'hog-tree', readyAt: h.t0 }) });
      await h.store().createRun({ run: h.sampleRun({ runId: 'skip-2', runOwner: 'hog', readyAt: h.t0 + 1 }) });
      await h.store().createRun({ run: h.sampleRun({ runId: 'skip-3', runOwner: 'bob', readyAt: h.t0 + 2 }) });
      const claimed = await h.store().claimRuns({ owner: 'w9', limit: 10, now: h.t0 + 5, leaseExpiresAt: h.t0 + 100, skip: { treeIds: ['hog-tree'], runOwners: ['hog'] } });
      expect(claimed.map((c) => c.run.runId)).toEqual(['skip-3']);
      const rest = await h.store().claimRuns({ owner: 'w9', limit: 10, now: h.t0 + 5, leaseExpiresAt: h.t0 + 100, skip: {} });
      expect(rest.map((c) => c.run.runId)).toEqual(['skip-1', 'skip-2']);
    });

    it('drops a tree\'s row with its root when ended runs are deleted', async () => {
      const root = await h.leased({ runId: 'old-root' });
      const done = await h.store().recordTransition(h.transition(root.run, root.token, { createRuns: [child(root.run, 'old-kid')], patch: { status: 'SUCCEEDED', endTime: h.t0 + 10, output: null } }));
      expect(done.status).toBe('SUCCEEDED');
      expect(await h.store().getRunTree('old-root')).not.toBeNull();
      await h.store().deleteEndedRuns({ endedBefore: h.t0 + 1000, limit: 10 });
      expect(await h.store().getRunTree('old-root')).toBeNull();
    });
  });
}
