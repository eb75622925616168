/**
 * Approvals and events over one SQLite file shared by two engines, each with its own store
 * connection: what one records, the other sees only through the file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, createFilesystemStores, type FlowDefinition } from '../../../index.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'flowrun-approvals-'));
afterAll(() => rmSync(tempRoot, { recursive: true, force: true }));

const payout: FlowDefinition = {
  id: 'payout',
  actions: { main: { startAt: 'pay', steps: { pay: { stepType: 'MODULE', moduleIdentifier: 'pay' } } } },
  subscriptions: [{ on: 'payout.requested', run: 'main' }],
};

function engineOver(dir: string, paid: string[]) {
  return createEngine({
    stores: createFilesystemStores({ rootDir: dir }),
    poll: false,
    runtimeConfig: { modules: { pay: (_input, ctx) => (paid.push(ctx.runId), { paid: true }) }, governance: () => 'approve' },
  });
}

describe('approvals and events across engines over one SQLite file', () => {
  it('resumes a run approved by a second engine, once, though two engines approve at the same time', async () => {
    const dir = mkdtempSync(join(tempRoot, 'db-'));
    const paid: string[] = [];
    const first = engineOver(dir, paid);
    await first.deployFlow(payout, { publish: true });
    const { requestId } = await first.startRun({ flow: 'payout' });
    await first.whenIdle();
    expect((await first.getRun(requestId)).status).toBe('INACTIVE');
    await first.close();
    await first.store.close();

    const second = engineOver(dir, paid);
    const third = engineOver(dir, paid);
    const decisions = await Promise.allSettled([second.approve(requestId, { stepId: 'pay', by: 'ops-a' }), third.approve(requestId, { stepId: 'pay', by: 'ops-b' })]);
    expect(decisions.filter((d) => d.status === 'fulfilled')).toHaveLength(1);
    expect(decisions.find((d) => d.status === 'rejected')).toMatchObject({ reason: { code: 'CONFLICT' } });
    const winner = decisions[0]!.status === 'fulfilled' ? second : third;
    const done = await winner.waitForRun(requestId, { timeoutMs: 5_000 });
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: { paid: true } });
    expect(paid).toEqual([requestId]);
    expect((await second.getRunLedger(requestId)).map((e) => e.to.decision)).toEqual(['approve', 'approved']);
    for (const e of [second, third]) {
      await e.close();
      await e.store.close();
    }
  });

  it('starts an event run once when two engines publish the same event id', async () => {
    const dir = mkdtempSync(join(tempRoot, 'db-'));
    const paid: string[] = [];
    const a = engineOver(dir, paid);
    const b = engineOver(dir, paid);
    await a.deployFlow(payout, { publish: true });
    const [fromA, fromB] = await Promise.all([a.publishEvent('payout.requested', { to: 'ada' }, { eventId: 'p-1' }), b.publishEvent('payout.requested', { to: 'ada' }, { eventId: 'p-1' })]);
    expect(fromA.runIds).toHaveLength(1);
    expect(fromB.runIds).toEqual(fromA.runIds);
    await Promise.all([a.whenIdle(), b.whenIdle()]);
    const runs = await a.listRuns({ flowId: 'payout' });
    expect(runs.runs.map((r) => [r.runId, r.source, r.status])).toEqual([[fromA.runIds[0], 'event', 'INACTIVE']]);
    for (const e of [a, b]) {
      await e.close();
      await e.store.close();
    }
  });
});
