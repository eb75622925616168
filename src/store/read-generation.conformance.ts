/**
 * The `readGeneration` part of the store conformance suite: a store that offers it moves it with
 * every kind of write a cached answer may depend on (runs, principals, groups, tokens, flows) and
 * keeps it while nothing is written — nor by a write that changes nothing; `readGenerationNow`, where
 * offered, answers the same number without a promise. Run by `runStoreConformance` against every store; a store
 * without it skips each test, saying so (it then offers no cached reads at all).
 */
import { describe, expect, it } from 'vitest';
import type { NewRun } from '../core/run.js';
import type { Store } from '../core/store.js';

const T0 = Date.UTC(2026, 0, 1);

/** Registers the generation tests; `store()` is the fresh store of the current test, `newRun` makes a run to create. */
export function describeReadGenerationConformance(store: () => Store, newRun: (overrides: Partial<NewRun>) => NewRun): void {
  describe('readGeneration (a store that offers it)', () => {
    it('keeps its number while nothing is written', async (ctx) => {
      const s = store();
      if (!s.readGeneration) return ctx.skip('this store offers no readGeneration: nothing is served from memory over it');
      await s.createRun({ run: newRun({}) });
      const before = await s.readGeneration();
      await s.listRuns({});
      await s.principals.getPrincipal('nobody');
      expect(await s.readGeneration()).toBe(before);
    });

    it('keeps its number across a write that changes nothing (an idle worker claiming no run)', async (ctx) => {
      const s = store();
      if (!s.readGeneration) return ctx.skip('this store offers no readGeneration: nothing is served from memory over it');
      await s.createRun({ run: newRun({ readyAt: T0 + 3_600_000 }) });
      const before = await s.readGeneration();
      expect(await s.claimRuns({ owner: 'w1', limit: 10, now: T0, leaseExpiresAt: T0 + 30_000 })).toEqual([]);
      expect(await s.readGeneration()).toBe(before);
    });

    it('moves with every write of a run, a principal, a group, a token or a flow', async (ctx) => {
      const s = store();
      if (!s.readGeneration) return ctx.skip('this store offers no readGeneration: nothing is served from memory over it');
      const { run } = await s.createRun({ run: newRun({}) });
      const writes: [string, () => Promise<unknown>][] = [
        ['createRun', () => s.createRun({ run: newRun({}) })],
        ['updateRun', () => s.updateRun({ runId: run.runId, at: T0 + 1, label: 'renamed' })],
        ['createPrincipal (user)', () => s.principals.createPrincipal({ id: 'gina', kind: 'user', at: T0 })],
        ['createPrincipal (group)', () => s.principals.createPrincipal({ id: 'ops', kind: 'group', at: T0 })],
        ['addGroupMember', () => s.principals.addGroupMember({ groupId: 'ops', memberId: 'gina' })],
        ['removeGroupMember', () => s.principals.removeGroupMember({ groupId: 'ops', memberId: 'gina' })],
        ['createToken', () => s.principals.createToken({ tokenId: 't1', principalId: 'gina', tokenHash: 'ab'.repeat(32), at: T0 })],
        ['revokeToken', () => s.principals.revokeToken({ tokenId: 't1', at: T0 + 2 })],
        ['saveFlowVersion', () => s.saveFlowVersion({ definition: { id: 'f', actions: { main: { startAt: 's', steps: { s: { stepType: 'COMPUTE', expression: '1' } } } } }, deployedBy: 'gina', at: T0 })],
      ];
      const unmoved: string[] = [];
      for (const [name, write] of writes) {
        const before = await s.readGeneration();
        await write();
        if ((await s.readGeneration()) === before) unmoved.push(name);
      }
      expect(unmoved).toEqual([]);
    });

    it('answers now, where it can, what readGeneration resolves to: the same number, moved by the same writes', async (ctx) => {
      const s = store();
      if (!s.readGenerationNow) return ctx.skip('this store offers no readGenerationNow: every cached answer goes through readGeneration');
      await s.createRun({ run: newRun({}) });
      const before = await s.readGeneration!();
      expect(s.readGenerationNow()).toBe(before);
      await s.principals.createPrincipal({ id: 'gina', kind: 'user', at: T0 });
      const after = s.readGenerationNow();
      expect(after).not.toBe(before);
      expect(after).toBe(await s.readGeneration!());
    });
  });
}
