/**
 * The `runExclusive` part of the store conformance suite: work of one name runs in one caller at
 * a time (retention in one process of many); a store without it skips, saying why.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../core/store.js';

/** Registers the exclusive-work tests over the fresh store of the current test. */
export function describeExclusiveWorkConformance(store: () => Store): void {
  describe('runExclusive (a store that offers it)', () => {
    it('skips work of a name another caller runs now, runs other names, and frees the name once the work settles', async (ctx) => {
      const s = store();
      if (!s.runExclusive) return ctx.skip('this store has no runExclusive: every process sweeps (SQLite serializes its writers; memory is one process)');
      let entered: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (entered = resolve));
      let finish: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (finish = resolve));
      const first = s.runExclusive('retention', async () => {
        entered();
        await held;
      });
      await started;
      let ranTwice = false;
      expect(await s.runExclusive('retention', async () => void (ranTwice = true))).toBe(false);
      expect(ranTwice).toBe(false);
      expect(await s.runExclusive('another', async () => undefined)).toBe(true);
      finish();
      expect(await first).toBe(true);
      await expect(s.runExclusive('retention', async () => Promise.reject(new Error('sweep failed')))).rejects.toThrow('sweep failed');
      expect(await s.runExclusive('retention', async () => undefined)).toBe(true);
    });
  });
}
