import { describe, expect, it } from 'vitest';
import { advancePolling, scheduleEngine } from '../../../../test/support/schedule-kit.js';
import type { OverlapPolicy } from '../../schedule.js';

const MIN = 60_000;
const at = (hhmm: string) => Date.parse(`2026-01-05T${hhmm}:00Z`);
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/** A 15-minute schedule of the gated action, created at 09:59; polls at 10:00, 10:15 and 10:30 while the 10:00 run is still going. */
async function overlapping(overlap: OverlapPolicy) {
  const kit = await scheduleEngine({ start: at('09:59') });
  await kit.engine.schedules.create({ scheduleId: 'sync', flowId: 'reports/daily', actionName: 'slow', every: '15m', overlap });
  await advancePolling(kit.clock, [kit.engine], 31 * MIN, MIN);
  const schedule = await kit.engine.schedules.get('sync');
  const runIdOf = (slot: string) => schedule.state.recent.find((o) => o.slot === at(slot) && o.runId)?.runId;
  return { ...kit, schedule, runIdOf };
}

describe('overlap policies with long-running runs', () => {
  it('skip: slots due while the run goes on are skipped, saying which run; the next slot after it ends fires', async () => {
    const { engine, clock, gate, schedule, runIdOf } = await overlapping('skip');
    expect(schedule.state.recent.map((o) => hhmm(o.slot))).toEqual(['10:00']);
    expect(schedule.state.skipped.map((o) => [hhmm(o.slot), o.reason])).toEqual([
      ['10:15', `overlap: run ${runIdOf('10:00')} (slot 2026-01-05T10:00:00.000Z) still running (policy skip)`],
      ['10:30', expect.stringMatching(/policy skip/)],
    ]);
    gate.release();
    await engine.waitForRun(runIdOf('10:00')!);
    await advancePolling(clock, [engine], 15 * MIN, MIN);
    const after = await engine.schedules.get('sync');
    expect(after.state.recent.map((o) => [hhmm(o.slot), o.status])).toEqual([['10:00', 'SUCCEEDED'], ['10:45', 'started']]);
    gate.release(true);
    await engine.close();
  });

  it('bufferOne: holds one slot and starts it as soon as the run ends; a further slot is skipped', async () => {
    const { engine, clock, gate, schedule, runIdOf } = await overlapping('bufferOne');
    expect(schedule.state.buffered.map(hhmm)).toEqual(['10:15']);
    expect(schedule.state.skipped.map((o) => [hhmm(o.slot), o.reason])).toEqual([['10:30', expect.stringMatching(/1 slot\(s\) already buffered \(policy bufferOne\)/)]]);
    gate.release();
    await engine.waitForRun(runIdOf('10:00')!);
    await advancePolling(clock, [engine], 2_000, 1_000);
    const after = await engine.schedules.get('sync');
    expect(after.state.recent.map((o) => [hhmm(o.slot), o.status])).toEqual([['10:00', 'SUCCEEDED'], ['10:15', 'started']]);
    expect(after.state.buffered).toEqual([]);
    const run = await engine.getRun(after.state.recent[1]!.runId!);
    expect(run.source).toBe('schedule');
    gate.release(true);
    await engine.close();
  });

  it('bufferAll: holds every slot and starts them one after another, each when the one before ends', async () => {
    const { engine, clock, gate, schedule, runIdOf } = await overlapping('bufferAll');
    expect(schedule.state.buffered.map(hhmm)).toEqual(['10:15', '10:30']);
    expect(schedule.state.skipped).toEqual([]);
    gate.release();
    await engine.waitForRun(runIdOf('10:00')!);
    await advancePolling(clock, [engine], 2_000, 1_000);
    let now = await engine.schedules.get('sync');
    expect(now.state.recent.map((o) => hhmm(o.slot))).toEqual(['10:00', '10:15']);
    expect(now.state.buffered.map(hhmm)).toEqual(['10:30']);
    gate.release();
    await engine.waitForRun(now.state.recent[1]!.runId!);
    await advancePolling(clock, [engine], 2_000, 1_000);
    now = await engine.schedules.get('sync');
    expect(now.state.recent.map((o) => [hhmm(o.slot), o.status])).toEqual([['10:00', 'SUCCEEDED'], ['10:15', 'SUCCEEDED'], ['10:30', 'started']]);
    gate.release(true);
    await engine.close();
  });

  it('cancelOther: a due slot cancels the run still going and starts its own', async () => {
    const { engine, gate, schedule } = await overlapping('cancelOther');
    expect(schedule.state.recent.map((o) => [hhmm(o.slot), o.status])).toEqual([['10:00', 'CANCELED'], ['10:15', 'CANCELED'], ['10:30', 'started']]);
    for (const o of schedule.state.recent.slice(0, 2)) expect((await engine.getRun(o.runId!)).status).toBe('CANCELED');
    expect(gate.waiting).toBe(3);
    gate.release(true);
    await engine.close();
  });

  it('allowAll: every slot starts its run, whatever is still going', async () => {
    const { engine, gate, schedule } = await overlapping('allowAll');
    expect(schedule.state.recent.map((o) => [hhmm(o.slot), o.status])).toEqual([['10:00', 'started'], ['10:15', 'started'], ['10:30', 'started']]);
    expect(gate.waiting).toBe(3);
    expect(schedule.state.activeRuns).toHaveLength(3);
    gate.release(true);
    await engine.close();
  });
});

describe('pausing, resuming, triggering and backfilling', () => {
  it('pauses with a note, records the slots missed while paused when resumed, and fires from then on', async () => {
    const { engine, clock } = await scheduleEngine({ start: at('09:59') });
    await engine.schedules.create({ scheduleId: 'h', flowId: 'reports/daily', every: '15m' });
    await advancePolling(clock, [engine], 2 * MIN, MIN);
    const paused = await engine.schedules.pause('h', 'month-end freeze');
    expect(paused).toMatchObject({ paused: true, note: 'month-end freeze', nextFireAt: null, nextFireTimes: [] });
    await advancePolling(clock, [engine], 60 * MIN, 5 * MIN);
    expect((await engine.schedules.get('h')).state.recent).toHaveLength(1);
    const resumed = await engine.schedules.resume('h');
    expect(resumed).toMatchObject({ paused: false, note: null, nextFireTimes: [at('11:15'), at('11:30'), at('11:45'), at('12:00'), at('12:15')] });
    expect(resumed.state.skipped).toEqual([expect.objectContaining({ slot: at('10:15'), count: 4, reason: 'paused: 4 slot(s) while the schedule was paused' })]);
    await advancePolling(clock, [engine], 15 * MIN, 5 * MIN);
    expect((await engine.schedules.get('h')).state.recent.map((o) => hhmm(o.slot))).toEqual(['10:00', '11:15']);
    await engine.close();
  });

  it('triggers a run now, and backfills a range without starting a slot that already ran', async () => {
    const { engine, clock } = await scheduleEngine({ start: at('09:59') });
    await engine.schedules.create({ scheduleId: 'h', flowId: 'reports/daily', every: '15m', overlap: 'allowAll', startAt: at('09:00') });
    await advancePolling(clock, [engine], 2 * MIN, MIN);
    const triggered = await engine.schedules.trigger('h');
    expect(triggered.outcomes).toEqual([expect.objectContaining({ slot: at('10:01'), status: 'started', kind: 'trigger' })]);
    const backfill = await engine.schedules.backfill('h', { from: at('09:00'), to: at('10:00') });
    expect(backfill.outcomes.map((o) => [hhmm(o.slot), o.kind])).toEqual([['09:00', 'backfill'], ['09:15', 'backfill'], ['09:30', 'backfill'], ['09:45', 'backfill'], ['10:00', 'backfill']]);
    await engine.whenIdle();
    // 10:00 ran already: the backfill met its run instead of starting another.
    const runs = (await engine.listRuns({ flowId: 'reports/daily' })).runs;
    expect(runs).toHaveLength(6);
    expect(new Set(backfill.outcomes.map((o) => o.runId)).size).toBe(5);
    await expect(engine.schedules.backfill('h', { from: at('00:00'), to: Date.parse('2026-02-05T00:00:00Z') })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await engine.close();
  });

  it('pauses itself after N consecutive failed runs, saying so', async () => {
    const { engine, clock } = await scheduleEngine({ start: at('09:59') });
    await engine.schedules.create({ scheduleId: 'f', flowId: 'reports/daily', actionName: 'failing', every: '15m', pauseAfterFailures: 3 });
    await advancePolling(clock, [engine], 61 * MIN, MIN);
    const schedule = await engine.schedules.get('f');
    expect(schedule.state.recent.map((o) => o.status)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    expect(schedule).toMatchObject({ paused: true, note: 'paused after 3 consecutive failed runs (pauseAfterFailures 3)' });
    await engine.close();
  });

  it('pauses itself with the reason when its action disappears from the published flow', async () => {
    const { engine, clock } = await scheduleEngine({ start: at('09:59') });
    await engine.schedules.create({ scheduleId: 's', flowId: 'reports/daily', actionName: 'slow', every: '15m', overlap: 'allowAll' });
    await engine.deployFlow({ id: 'reports/daily', actions: { main: { startAt: 'a', steps: { a: { stepType: 'SUCCEED' } } } } }, { publish: true });
    await advancePolling(clock, [engine], 2 * MIN, MIN);
    expect(await engine.schedules.get('s')).toMatchObject({ paused: true, note: expect.stringMatching(/paused: flow "reports\/daily" v2 has no action "slow"/), nextFireAt: null });
    await engine.close();
  });

  it('refuses an invalid cron or an unknown time zone, naming the field', async () => {
    const { engine } = await scheduleEngine();
    await expect(engine.schedules.create({ flowId: 'reports/daily', cron: '0 25 * * *' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'cron', message: expect.stringMatching(/invalid cron/) }] });
    await expect(engine.schedules.create({ flowId: 'reports/daily', cron: '0 2 * * *', timezone: 'Europe/Atlantis' })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'timezone' }] });
    await expect(engine.schedules.create({ flowId: 'nope', every: '1h' })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
    await engine.close();
  });
});

describe('the background poll', () => {
  it('fires on its own on the engine clock, waking at the next due time rather than the poll interval', async () => {
    const { createEngine } = await import('../../../create-engine.js');
    const { createMemoryStores } = await import('../../../store/memory/memory-store.js');
    const { createManualClock } = await import('../../../testing/manual-clock.js');
    const { reportFlow } = await import('../../../../test/support/schedule-kit.js');
    const clock = createManualClock(at('09:59'));
    const engine = createEngine({ stores: createMemoryStores(), clock, pollIntervalMs: 3_600_000 });
    await engine.deployFlow(reportFlow, { publish: true });
    await engine.schedules.create({ scheduleId: 'bg', flowId: 'reports/daily', every: '15m' });
    await clock.advance(MIN + 1);
    await engine.schedules.poller.whenIdle();
    expect((await engine.schedules.get('bg')).state.recent.map((o) => hhmm(o.slot))).toEqual(['10:00']);
    await clock.advance(15 * MIN);
    await engine.schedules.poller.whenIdle();
    expect((await engine.schedules.get('bg')).state.recent.map((o) => hhmm(o.slot))).toEqual(['10:00', '10:15']);
    await engine.close();
  });
});
