import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../create-engine.js';
import { createMemoryStores } from '../../../store/memory/memory-store.js';
import { createManualClock } from '../../../testing/manual-clock.js';
import { FlowError } from '../../errors.js';
import type { Store } from '../../store.js';
import type { ScheduleStore } from '../../schedule-store.js';
import { reportFlow } from '../../../../test/support/schedule-kit.js';

const MIN = 60_000;
const START = Date.parse('2026-01-05T09:59:00Z');
/** More schedules than one firing batch holds (250), all due at the same second. */
const SCHEDULES = 600;

/** A store whose schedule methods are replaced by `overrides` (another process's view, a crash). */
function withSchedules(store: Store, overrides: (schedules: ScheduleStore) => Partial<ScheduleStore>): Store {
  const schedules = { ...bound(store.schedules), ...overrides(store.schedules) } as ScheduleStore;
  return new Proxy(store, {
    get: (target, name) => {
      if (name === 'schedules') return schedules;
      const value = Reflect.get(target, name, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function bound(schedules: ScheduleStore): ScheduleStore {
  const methods = ['createSchedule', 'getSchedule', 'listSchedules', 'saveSchedule', 'saveSchedules', 'deleteSchedule', 'claimDueSchedules', 'nextDueAt'] as const;
  return Object.fromEntries(methods.map((m) => [m, (schedules[m] as (...a: unknown[]) => unknown).bind(schedules)])) as unknown as ScheduleStore;
}

/** Claims every due schedule, whatever claim holds it: an engine whose view of the claims is behind (a claim ran out while another still fires). */
const pastClaims = (schedules: ScheduleStore): Partial<ScheduleStore> => ({
  claimDueSchedules: async ({ now, limit }) => {
    const page = await schedules.listSchedules({ limit: 10_000 });
    return page.schedules.filter((s) => s.nextFireAt !== null && s.nextFireAt <= now).slice(0, limit);
  },
});

async function minuteSchedules(store: Store): Promise<void> {
  const engine = createEngine({ stores: store, clock: createManualClock(START), poll: false });
  await engine.deployFlow(reportFlow, { publish: true });
  for (let i = 0; i < SCHEDULES; i++) await engine.schedules.create({ scheduleId: `b-${String(i).padStart(3, '0')}`, flowId: 'reports/daily', every: '1m', overlap: 'allowAll' });
  await engine.close();
}

async function expectOneRunPerSlot(store: Store, slotsEach: number): Promise<void> {
  expect(await store.countRuns({ flowId: 'reports/daily' })).toBe(SCHEDULES * slotsEach);
  for (let after: string | undefined; ; ) {
    const page = await store.schedules.listSchedules({ limit: 200, ...(after ? { after } : {}) });
    for (const s of page.schedules) {
      expect(s.state.runCount).toBe(slotsEach);
      const started = s.state.recent.filter((o) => o.runId);
      expect(new Set(started.map((o) => o.slot)).size).toBe(slotsEach);
      for (const o of started) expect((await store.getRun(o.runId!))?.tags).toEqual([`schedule:${s.scheduleId}`]);
    }
    if (!page.next) break;
    after = page.next;
  }
}

describe('schedules due at the same second, fired in batches', () => {
  it('start one run per slot when two engines fire the same batch at once, past the claims', async () => {
    const store = createMemoryStores();
    await minuteSchedules(store);
    const clock = createManualClock(START);
    const engines = [store, withSchedules(store, pastClaims)].map((stores) => createEngine({ stores, clock, poll: false }));
    for (let minute = 0; minute < 3; minute++) {
      await clock.advance(MIN);
      await Promise.all(engines.map((e) => e.schedules.pollOnce()));
    }
    await Promise.all(engines.map((e) => e.whenIdle()));
    await expectOneRunPerSlot(store, 3);
    expect(await store.countRuns({ flowId: 'reports/daily', status: 'SUCCEEDED' })).toBe(SCHEDULES * 3);
    for (const e of engines) await e.close();
  });

  it('neither loses nor repeats a slot when the process dies between creating a batch\'s runs and saving its schedules', async () => {
    const store = createMemoryStores();
    await minuteSchedules(store);
    const clock = createManualClock(START);
    // The first engine's process dies once its runs are created: none of its saves reaches the store.
    const died = () => Promise.reject(new FlowError('STORE_ERROR', 'the process died'));
    const dying = withSchedules(store, () => ({ saveSchedule: died, saveSchedules: died }));
    const first = createEngine({ stores: dying, clock, poll: false });
    await clock.advance(MIN);
    await first.schedules.pollOnce();
    await first.whenIdle();
    await first.close();
    expect(await store.countRuns({ flowId: 'reports/daily' })).toBe(SCHEDULES);
    expect((await store.schedules.getSchedule('b-000'))!.state.runCount).toBe(0);
    // Another engine finds the schedules once the dead one's claims run out, and meets the runs it created.
    const second = createEngine({ stores: store, clock, poll: false });
    await clock.advance(31_000);
    expect(await second.schedules.pollOnce()).toBe(SCHEDULES);
    await second.whenIdle();
    await expectOneRunPerSlot(store, 1);
    await clock.advance(MIN);
    await second.schedules.pollOnce();
    await second.whenIdle();
    await expectOneRunPerSlot(store, 2);
    await second.close();
  });

  it('starts no second run for a slot an older engine (ids without the slot\'s time) started before it died, nor for one it fired and saved when backfilled', async () => {
    const store = createMemoryStores();
    await minuteSchedules(store);
    const clock = createManualClock(START);
    const died = () => Promise.reject(new FlowError('STORE_ERROR', 'the process died'));
    const old = createEngine({ stores: withSchedules(store, () => ({ saveSchedule: died, saveSchedules: died })), clock, poll: false });
    // What flowrun derived before ids began with the slot's time.
    old.derivedRunIds.forScheduleSlot = (...args) => old.derivedRunIds.legacyForScheduleSlot(...args);
    await clock.advance(MIN);
    await old.schedules.pollOnce();
    await old.whenIdle();
    await old.close();
    expect(await store.countRuns({ flowId: 'reports/daily' })).toBe(SCHEDULES);
    const upgraded = createEngine({ stores: store, clock, poll: false });
    await clock.advance(31_000);
    expect(await upgraded.schedules.pollOnce()).toBe(SCHEDULES);
    await upgraded.whenIdle();
    await expectOneRunPerSlot(store, 1);
    // The next slot's runs carry today's ids: the slot's millisecond first.
    await clock.advance(MIN);
    await upgraded.schedules.pollOnce();
    await upgraded.whenIdle();
    await expectOneRunPerSlot(store, 2);
    const [, second] = (await store.schedules.getSchedule('b-000'))!.state.recent;
    expect(second!.runId!.replace('-', '').slice(0, 12)).toBe(second!.slot.toString(16).padStart(12, '0'));
    // Backfilling the slot the old engine fired meets its run.
    const { outcomes } = await upgraded.schedules.backfill('b-000', { from: START + MIN, to: START + 2 * MIN });
    expect(outcomes.filter((o) => o.status === 'started').length).toBe(outcomes.length);
    expect(await store.countRuns({ flowId: 'reports/daily' })).toBe(SCHEDULES * 2);
    await upgraded.close();
  });
});

describe('the background poll and a burst', () => {
  it('starts a burst at its due second even when claiming it takes a while: it is claimed ahead of that second', async () => {
    const store = createMemoryStores();
    await minuteSchedules(store);
    const manual = createManualClock(START);
    // Each claim that finds schedules costs the engine 400 ms of its clock (a large burst, a busy store).
    let spentMs = 0;
    const clock = { now: () => manual.now() + spentMs, setTimeout: manual.setTimeout.bind(manual) };
    const slowClaims = withSchedules(store, (schedules) => ({
      claimDueSchedules: async (input) => {
        const claimed = await schedules.claimDueSchedules(input);
        if (claimed.length > 0) spentMs += 400;
        return claimed;
      },
    }));
    const engine = createEngine({ stores: slowClaims, clock });
    await manual.advance(MIN + 30_000);
    await engine.schedules.poller.whenIdle();
    await engine.whenIdle();
    const { runs } = await store.listRuns({ flowId: 'reports/daily', limit: 1_000 });
    expect(runs.length).toBe(SCHEDULES);
    expect(new Set(runs.map((r) => r.startTime))).toEqual(new Set([START + MIN]));
    await expectOneRunPerSlot(store, 1);
    await engine.close();
  });

  it('hands back a burst claimed ahead when its engine closes before the due second: another engine fires it then', async () => {
    const store = createMemoryStores();
    await minuteSchedules(store);
    const clock = createManualClock(START);
    const closing = createEngine({ stores: store, clock });
    await clock.advance(MIN - 500);
    // Claimed and waiting for 10:00: nothing is due yet, so the poll is idle.
    await closing.schedules.poller.whenIdle();
    expect(await store.countRuns({ flowId: 'reports/daily' })).toBe(0);
    await closing.close();
    const other = createEngine({ stores: store, clock, poll: false });
    await clock.advance(500);
    expect(await other.schedules.pollOnce()).toBe(SCHEDULES);
    await other.whenIdle();
    await expectOneRunPerSlot(store, 1);
    await other.close();
  });
});
