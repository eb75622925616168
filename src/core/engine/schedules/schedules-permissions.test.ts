import { describe, expect, it } from 'vitest';
import { advancePolling, reportFlow, scheduleEngine } from '../../../../test/support/schedule-kit.js';
import { createEngine, createMemoryStores } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';
import type { FlowDefinition } from '../../model.js';

const MIN = 60_000;
const at = (hhmm: string) => Date.parse(`2026-01-05T${hhmm}:00Z`);
const guarded = (starters: string[]): FlowDefinition => ({ id: 'ops/guarded', roles: { starters }, actions: { main: { startAt: 'ok', steps: { ok: { stepType: 'COMPUTE', expression: '{by: run.id}' } } } } });

describe('schedules under the permission model', () => {
  it('start their runs as the owner, checked at every slot: a revoked right refuses the slot, recorded with its code', async () => {
    const { engine, clock } = await scheduleEngine({ start: at('09:59') });
    await engine.principals.createUser({ id: 'olivia' });
    await engine.deployFlow(guarded(['olivia']), { publish: true });
    await engine.schedules.create({ scheduleId: 'g', flowId: 'ops/guarded', every: '15m' }, { as: 'olivia' });
    await advancePolling(clock, [engine], 2 * MIN, MIN);
    await engine.whenIdle();
    const first = await engine.schedules.get('g');
    expect((await engine.getRun(first.state.recent[0]!.runId!)).createdBy).toBe('olivia');
    await engine.deployFlow(guarded(['someone-else']), { publish: true });
    await advancePolling(clock, [engine], 15 * MIN, MIN);
    const after = await engine.schedules.get('g');
    expect(after.state.recent.at(-1)).toMatchObject({ slot: at('10:15'), status: 'refused', code: 'PERMISSION_DENIED' });
    expect(after.state.consecutiveFailures).toBe(1);
    await engine.close();
  });

  it('start as the declared service account only when the owner may act as it', async () => {
    const { engine } = await scheduleEngine({ start: at('09:59') });
    await engine.principals.createUser({ id: 'olivia' });
    await engine.principals.createServiceAccount({ id: 'svc-reports' });
    await expect(engine.schedules.create({ flowId: 'reports/daily', every: '15m', runAs: 'svc-reports' }, { as: 'olivia' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await engine.principals.grantActAs({ principalId: 'olivia', serviceAccountId: 'svc-reports' });
    const created = await engine.schedules.create({ scheduleId: 'svc', flowId: 'reports/daily', every: '15m', runAs: 'svc-reports' }, { as: 'olivia' });
    const fired = await engine.schedules.trigger('svc', { as: 'olivia' });
    const run = await engine.getRun(fired.outcomes[0]!.runId!);
    expect(run).toMatchObject({ createdBy: 'olivia', runAs: 'svc-reports', source: 'schedule' });
    expect(created.owner).toBe('olivia');
    await engine.close();
  });
});

describe('listing schedules', () => {
  it('fills each page with what the reader may see, past schedules of others, and a walk of `next` returns each of theirs once', async () => {
    const engine = createEngine({ stores: createMemoryStores(), clock: createManualClock(at('09:59')), poll: false });
    await engine.deployFlow(reportFlow, { publish: true });
    for (const id of ['olivia', 'mona']) await engine.principals.createUser({ id });
    // Ids sort as m-00 … m-29 (mona's) before o-0 … o-4 (olivia's), with o-m interleaved between mona's.
    for (let i = 0; i < 30; i++) await engine.schedules.create({ scheduleId: `m-${String(i).padStart(2, '0')}`, flowId: 'reports/daily', every: '15m' }, { as: 'mona' });
    await engine.schedules.create({ scheduleId: 'm-05x', flowId: 'reports/daily', every: '15m' }, { as: 'olivia' });
    for (let i = 0; i < 4; i++) await engine.schedules.create({ scheduleId: `o-${i}`, flowId: 'reports/daily', every: '15m' }, { as: 'olivia' });
    const first = await engine.schedules.list({ limit: 4 }, { as: 'olivia' });
    expect(first.schedules.map((s) => s.scheduleId)).toEqual(['m-05x', 'o-0', 'o-1', 'o-2']);
    const seen = [...first.schedules.map((s) => s.scheduleId)];
    let next = first.next;
    while (next !== null) {
      const page = await engine.schedules.list({ limit: 4, after: next }, { as: 'olivia' });
      seen.push(...page.schedules.map((s) => s.scheduleId));
      next = page.next;
    }
    expect(seen).toEqual(['m-05x', 'o-0', 'o-1', 'o-2', 'o-3']);
    // One page of 1 stops reading after 10 store pages of mona's: a short page that says where to go on.
    const capped = await engine.schedules.list({ limit: 1, after: 'm-05x' }, { as: 'olivia' });
    expect(capped).toMatchObject({ schedules: [], next: 'm-15' });
    await engine.close();
  });
});

describe('the schedules budget', () => {
  it('refuses a principal\'s schedule past maxSchedulesPerPrincipal with LIMIT_EXCEEDED, creating nothing; others and definitions are not counted', async () => {
    const engine = createEngine({ stores: createMemoryStores(), clock: createManualClock(at('09:59')), poll: false, runtimeConfig: { budgets: { maxSchedulesPerPrincipal: 2 } } });
    await engine.deployFlow(reportFlow, { publish: true });
    await engine.deployFlow({ ...guarded(['olivia']), schedules: [{ name: 'nightly', cron: '0 2 * * *' }] }, { publish: true, deployedBy: 'olivia' });
    for (const id of ['olivia', 'mona']) await engine.principals.createUser({ id });
    await engine.schedules.create({ scheduleId: 'a', flowId: 'reports/daily', every: '15m' }, { as: 'olivia' });
    await engine.schedules.create({ scheduleId: 'b', flowId: 'reports/daily', every: '15m' }, { as: 'olivia' });
    await expect(engine.schedules.create({ scheduleId: 'c', flowId: 'reports/daily', every: '15m' }, { as: 'olivia' })).rejects.toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { limit: 'maxSchedulesPerPrincipal', max: 2, value: 3 },
    });
    await expect(engine.schedules.get('c')).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    // Someone else's count is their own; deleting one makes room again.
    await engine.schedules.create({ scheduleId: 'm', flowId: 'reports/daily', every: '15m' }, { as: 'mona' });
    await engine.schedules.delete('a', { as: 'olivia' });
    await engine.schedules.create({ scheduleId: 'c', flowId: 'reports/daily', every: '15m' }, { as: 'olivia' });
    expect((await engine.schedules.list()).schedules.map((s) => s.scheduleId).sort()).toEqual(['b', 'c', 'm', 'ops/guarded#nightly']);
    await engine.close();
  });

  it('refuses, creating nothing, an input every slot would refuse: params it does not bind, too deep, too large', async () => {
    const engine = createEngine({ stores: createMemoryStores(), clock: createManualClock(at('09:59')), poll: false, runtimeConfig: { maxNestingDepth: 16, budgets: { maxValueBytes: 1024 } } });
    await engine.deployFlow({ id: 'reports/typed', actions: { main: { params: { region: { type: 'text', required: true } }, startAt: 'ok', steps: { ok: { stepType: 'SUCCEED' } } } } }, { publish: true });
    await engine.principals.createUser({ id: 'olivia' });
    const create = (input: unknown) => engine.schedules.create({ scheduleId: 's', flowId: 'reports/typed', every: '15m', input }, { as: 'olivia' });
    await expect(create({})).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'input.region' }] });
    let deep: unknown = 'x';
    for (let i = 0; i < 20; i++) deep = [deep];
    await expect(create({ region: 'eu', deep })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(create({ region: 'x'.repeat(2_000) })).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxValueBytes' } });
    expect((await engine.schedules.list()).schedules).toEqual([]);
    await create({ region: 'eu' });
    // Changing the input later is held to the same.
    await expect(engine.schedules.update('s', { input: { region: 7 } }, { as: 'olivia' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await engine.schedules.get('s')).input).toEqual({ region: 'eu' });
    await engine.close();
  });
});
