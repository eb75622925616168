import { describe, expect, it } from 'vitest';
import { advancePolling, scheduleEngine } from '../../../../test/support/schedule-kit.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('schedules across daylight-saving changes (manual clock)', () => {
  for (const [zone, spring, fall] of [
    ['Europe/Paris', '2026-03-27T12:00:00Z', '2026-10-23T12:00:00Z'],
    ['America/New_York', '2026-03-06T12:00:00Z', '2026-10-30T12:00:00Z'],
  ] as const) {
    for (const [change, start] of [['spring-forward', spring], ['fall-back', fall]] as const) {
      it(`fires a 02:30 daily schedule in ${zone} once on each day around the ${change}, never twice, skipping nothing`, async () => {
        const { engine, clock } = await scheduleEngine({ start: Date.parse(start) });
        const created = await engine.schedules.create({ scheduleId: 'nightly', flowId: 'reports/daily', cron: '30 2 * * *', timezone: zone, input: { region: 'eu' } });
        expect(created.nextFireTimes).toHaveLength(5);
        await advancePolling(clock, [engine], 4 * DAY, 10 * 60_000);
        await engine.whenIdle();

        const schedule = await engine.schedules.get('nightly');
        expect(schedule.state.skipped).toEqual([]);
        const started = schedule.state.recent.filter((o) => o.runId);
        const localDays = started.map((o) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, dateStyle: 'short' }).format(o.slot));
        expect(started).toHaveLength(4);
        expect(new Set(localDays).size).toBe(4);
        const { runs } = await engine.listRuns({ flowId: 'reports/daily' });
        expect(runs).toHaveLength(4);
        for (const run of runs) {
          expect(run).toMatchObject({ source: 'schedule', status: 'SUCCEEDED' });
          // Each run saw its slot, and the slot before it.
          const seen = (run.output as { schedule: { id: string; scheduledTime: number; previousTime: number | null } }).schedule;
          expect(seen.id).toBe('nightly');
          expect(started.map((o) => o.slot)).toContain(seen.scheduledTime);
        }
        const previous = runs.map((r) => (r.output as { schedule: { previousTime: number | null } }).schedule.previousTime).sort();
        expect(previous.filter((p) => p === null)).toHaveLength(1);
        // The local wall time of each slot: 02:30 where it exists, the first valid time after the gap where it does not.
        const wall = started.map((o) => new Intl.DateTimeFormat('en-GB', { timeZone: zone, timeStyle: 'short' }).format(o.slot));
        expect(wall.filter((w) => w === '02:30').length).toBeGreaterThanOrEqual(3);
        await engine.close();
      });
    }
  }
});

describe('catch-up after an outage', () => {
  async function outage(catchupWindowMs: number) {
    const { engine, clock } = await scheduleEngine({ start: Date.parse('2026-01-05T09:59:00Z') });
    await engine.schedules.create({ scheduleId: 'q', flowId: 'reports/daily', every: '15m', overlap: 'allowAll', catchupWindowMs });
    await advancePolling(clock, [engine], 2 * 60_000, 60_000); // 10:00 fires
    await clock.advance(3 * HOUR); // nobody polls: the engine is down from 10:01 to 13:01
    await engine.schedules.pollOnce();
    await engine.whenIdle();
    const schedule = await engine.schedules.get('q');
    await engine.close();
    return schedule;
  }

  it('fires the missed slots within the window when the engine comes back', async () => {
    const schedule = await outage(4 * HOUR);
    const fired = schedule.state.recent.filter((o) => o.runId).map((o) => new Date(o.slot).toISOString().slice(11, 16));
    expect(fired).toEqual(['10:00', '10:15', '10:30', '10:45', '11:00', '11:15', '11:30', '11:45', '12:00', '12:15', '12:30', '12:45', '13:00']);
    expect(schedule.state.skipped).toEqual([]);
  });

  it('skips the slots older than the window as one recorded range, saying why, and fires the rest', async () => {
    const schedule = await outage(HOUR);
    const fired = schedule.state.recent.filter((o) => o.runId).map((o) => new Date(o.slot).toISOString().slice(11, 16));
    expect(fired).toEqual(['10:00', '12:15', '12:30', '12:45', '13:00']);
    const skipped = schedule.state.skipped;
    expect(skipped).toEqual([expect.objectContaining({ slot: Date.parse('2026-01-05T10:15:00Z'), count: 8, reason: expect.stringMatching(/older than the catch-up window/) })]);
  });

  it('never fires more than a bounded number of slots at once, however long the outage', async () => {
    const { engine, clock } = await scheduleEngine({ start: Date.parse('2026-01-05T09:59:30Z') });
    await engine.schedules.create({ scheduleId: 'fast', flowId: 'reports/daily', every: '1s', overlap: 'allowAll', catchupWindowMs: DAY });
    await clock.advance(2 * HOUR);
    await engine.schedules.pollOnce();
    const schedule = await engine.schedules.get('fast');
    expect(schedule.state.runCount).toBe(50);
    expect(schedule.state.skipped[0]).toMatchObject({ count: 2 * 3600 - 50, reason: expect.stringMatching(/beyond the 50/) });
    await engine.whenIdle();
    await engine.close();
  });
});
