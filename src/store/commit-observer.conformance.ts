/**
 * The `observeCommits` part of the store conformance suite: every committed creation and transition is
 * reported in some batch that begins and ends, with a size, and nothing after the observer stops.
 * Run by `runStoreConformance` against every store.
 */
import { describe, expect, it } from 'vitest';
import type { NewRun, RunRecord } from '../core/run.js';
import type { Store, Transition } from '../core/store.js';

/** Registers the commit-observer tests over the fresh store of the current test. */
export function describeCommitObserverConformance(options: {
  store: () => Store;
  sampleRun: (overrides?: Partial<NewRun>) => NewRun;
  leased: () => Promise<{ run: RunRecord; token: number; owner: string }>;
  transition: (run: Pick<RunRecord, 'runId' | 'version'>, token: number, extra?: Partial<Transition>) => Transition;
}): void {
  describe('observeCommits', () => {
    it('reports every committed new run and transition in a commit with its size and duration, and stops when asked', async (ctx) => {
      const s = options.store();
      if (!s.observeCommits) return ctx.skip('this store has no commit batches to report (memory)');
      const batches: { size: number; durationMs: number }[] = [];
      const stop = s.observeCommits({
        commitStarted: (_store, size) => {
          const startedAt = performance.now();
          return (error) => {
            if (error === undefined) batches.push({ size, durationMs: performance.now() - startedAt });
          };
        },
      });
      const { run, token } = await options.leased();
      await Promise.all([s.createRun({ run: options.sampleRun() }), s.createRun({ run: options.sampleRun() }), s.recordTransition(options.transition(run, token, { patch: { readyAt: 1 } }))]);
      expect(batches.reduce((sum, b) => sum + b.size, 0)).toBeGreaterThanOrEqual(4);
      expect(batches.every((b) => Number.isInteger(b.size) && b.size >= 1 && b.durationMs >= 0)).toBe(true);
      stop();
      const seen = batches.length;
      await s.createRun({ run: options.sampleRun() });
      expect(batches).toHaveLength(seen);
    });
  });
}
