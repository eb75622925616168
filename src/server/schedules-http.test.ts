/**
 * Schedules over HTTP through `flowrun/client` (issue 17): create, read with the next fire times,
 * pause with a note, resume, trigger, backfill, list runs by schedule, delete — and a schedule the
 * caller may not manage answers SCHEDULE_NOT_FOUND like one that does not exist.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient, type FlowClient } from '../client/index.js';
import { createEngine, createMemoryStores } from '../index.js';
import { createManualClock, type ManualClock } from '../testing/manual-clock.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';

const MIN = 60_000;
const at = (hhmm: string) => Date.parse(`2026-01-05T${hhmm}:00Z`);
let f: ServerFixture;
let clock: ManualClock;
const clientAs = (id: string): FlowClient => createClient({ baseUrl: 'http://flowrun.test/', token: `as:${id}`, fetch: f.router.fetch });
/** Moves the clock minute by minute, polling the schedules after each. */
async function minutes(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await clock.advance(MIN);
    await f.engine.schedules.pollOnce();
  }
  await f.engine.whenIdle();
}

beforeEach(async () => {
  clock = createManualClock(at('09:59'));
  const stores = createMemoryStores();
  f = await createServerFixture({ stores, engine: createEngine({ stores, clock, poll: false }) });
});
afterEach(async () => {
  await f.close();
});

describe('schedules over HTTP', () => {
  it('creates a schedule, shows its next fire times, pauses, resumes, triggers and backfills it, and lists its runs', async () => {
    const olivia = clientAs('olivia');
    const created = await olivia.createSchedule({ scheduleId: 'echo-15', flowId: 'demo/echo', every: '15m', input: { n: 7 }, overlap: 'allowAll' });
    expect(created).toMatchObject({ scheduleId: 'echo-15', owner: 'olivia', paused: false, nextFireTimes: [at('10:00'), at('10:15'), at('10:30'), at('10:45'), at('11:00')] });
    await minutes(2);
    expect((await olivia.getSchedule('echo-15', { next: 2 })).nextFireTimes).toEqual([at('10:15'), at('10:30')]);

    const paused = await olivia.pauseSchedule('echo-15', { note: 'quarter close' });
    expect(paused).toMatchObject({ paused: true, note: 'quarter close', nextFireTimes: [] });
    await minutes(30);
    const resumed = await olivia.resumeSchedule('echo-15');
    expect(resumed.state.skipped).toEqual([expect.objectContaining({ slot: at('10:15'), count: 2, reason: expect.stringMatching(/paused/) })]);

    const triggered = await olivia.triggerSchedule('echo-15');
    expect(triggered.outcomes).toEqual([expect.objectContaining({ status: 'started', kind: 'trigger' })]);
    const backfilled = await olivia.backfillSchedule('echo-15', { from: '2026-01-05T10:00:00Z', to: '2026-01-05T10:30:00Z' });
    expect(backfilled.outcomes.map((o) => o.slot)).toEqual([at('10:00'), at('10:15'), at('10:30')]);
    await f.engine.whenIdle();

    // 10:00 (fired), the trigger, and the backfill's 10:15 and 10:30 (10:00 met its run).
    const runs = await olivia.listRuns({ scheduleId: 'echo-15' });
    expect(runs.runs).toHaveLength(4);
    expect(runs.runs.every((r) => r.source === 'schedule' && r.createdBy === 'olivia')).toBe(true);
    expect((await olivia.listSchedules()).schedules.map((s) => s.scheduleId)).toEqual(['echo-15']);
    await olivia.deleteSchedule('echo-15');
    await expect(olivia.getSchedule('echo-15')).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    expect((await olivia.listRuns({ scheduleId: 'echo-15' })).runs).toHaveLength(4);
  });

  it('refuses bad specs naming the field, and hides a schedule from who may not manage it', async () => {
    const olivia = clientAs('olivia');
    await expect(olivia.createSchedule({ flowId: 'demo/echo', cron: '0 2 * * *', timezone: 'Europe/Pariss' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'timezone' }] });
    await expect(olivia.createSchedule({ flowId: 'demo/echo', cron: '0 2 * * * * * *' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'cron' }] });
    // Olivia may start secure/report (a starter); otto may not, so he may not schedule it either.
    await expect(clientAs('otto').createSchedule({ flowId: 'secure/report', every: '1h' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
    await olivia.createSchedule({ scheduleId: 'mine', flowId: 'secure/report', every: '1h' });
    for (const attempt of [() => clientAs('otto').getSchedule('mine'), () => clientAs('otto').pauseSchedule('mine'), () => clientAs('otto').triggerSchedule('mine'), () => clientAs('otto').deleteSchedule('mine')]) {
      await expect(attempt()).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    }
    expect((await clientAs('otto').listSchedules()).schedules).toEqual([]);
    // The flow's administrator sees and manages it.
    expect((await clientAs('adam').pauseSchedule('mine', { note: 'audit' })).note).toBe('audit');
  });
});
