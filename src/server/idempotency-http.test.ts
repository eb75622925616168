/**
 * Issue 12, item 5 over HTTP: run ids of idempotency keys cannot be computed, so nobody can take
 * (squat) another principal's key first; a taken `requestId` answers one CONFLICT that tells
 * nothing about the run holding it, whoever owns it and whether or not the caller may see it.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';

let f: ServerFixture;
beforeEach(async () => {
  f = await createServerFixture();
});
afterEach(async () => {
  await f.close();
});

/** What an attacker computes from public data: the id every key mapped to before issue 12. */
function publicDerivation(userId: string, key: string): string {
  const bytes = createHash('sha256').update(`flowrun-idempotency\n${userId}\n${key}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe('idempotency keys and request ids (issue 12)', () => {
  it('lets nobody take a principal\'s idempotency key first, with a run visible to the victim or not', async () => {
    // otto pre-creates runs at every id he can compute for olivia's keys: one she may see, one she may not.
    const visible = await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/hold', requestId: publicDerivation('olivia', 'order-1'), runMonitoringBy: ['olivia'] } });
    const hidden = await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', requestId: publicDerivation('olivia', 'order-2') } });
    expect([visible.status, hidden.status]).toEqual([201, 201]);

    for (const key of ['order-1', 'order-2']) {
      const first = await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n: 1 }, idempotencyKey: key } });
      expect(first.status).toBe(201);
      expect(first.body.run).toMatchObject({ flowId: 'demo/echo', createdBy: 'olivia', runOwner: 'olivia' });
      const again = await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n: 1 }, idempotencyKey: key } });
      expect(again.status).toBe(200);
      expect(again.body.run.runId).toBe(first.body.run.runId);
      expect([visible.body.run.runId, hidden.body.run.runId]).not.toContain(first.body.run.runId);
    }
  });

  it('maps a key to a run id no one can predict: neither the old public derivation nor another principal\'s', async () => {
    const mine = await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n: 1 }, idempotencyKey: 'k' } });
    const ottos = await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', input: { n: 1 }, idempotencyKey: 'k' } });
    expect(mine.body.run.runId).not.toBe(publicDerivation('olivia', 'k'));
    expect(ottos.body.run.runId).not.toBe(mine.body.run.runId);
    expect(mine.body.run.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('answers a taken requestId with one CONFLICT, the same whoever owns the run and whether the caller may see it', async () => {
    const own = await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/hold', requestId: 'own-1' } });
    const shared = await f.json('POST', '/runs', { body: { flowId: 'demo/hold', requestId: 'shared-1', runMonitoringBy: ['otto'], label: 'secret label' } });
    const hidden = await f.json('POST', '/runs', { body: { flowId: 'secure/report', requestId: 'hidden-1', label: 'secret label' } });
    expect([own.status, shared.status, hidden.status]).toEqual([201, 201, 201]);

    const answer = async (requestId: string): Promise<unknown> => {
      const { status, body } = await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', input: { n: 1 }, requestId } });
      // The message names the id the caller sent, nothing else: compare with the id blanked out.
      return { status, body: JSON.parse(JSON.stringify(body).replaceAll(requestId, '<id>')) };
    };
    const answers = [await answer('own-1'), await answer('shared-1'), await answer('hidden-1')];
    expect(answers[0]).toEqual({ status: 409, body: { error: { code: 'CONFLICT', message: expect.any(String), details: { field: 'requestId' } } } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    const text = JSON.stringify(answers);
    for (const leak of ['olivia', 'secure/report', 'demo/hold', 'secret label', 'ACTIVE', 'runId']) expect(text).not.toContain(leak);
    // Nothing was started by the refused requests.
    expect((await f.engine.listRuns({ flowId: 'demo/echo' })).runs).toEqual([]);
  });
});
