/**
 * The schedule part of the store conformance suite (issue 17): records kept whole, saves checked
 * against the version they were computed from, and due schedules claimed once among claimers.
 * Run by `runStoreConformance` against every store.
 */
import { describe, expect, it } from 'vitest';
import { freshScheduleState, type ScheduleRecord } from '../core/schedule.js';
import type { NewSchedule } from '../core/schedule-store.js';
import type { NewRun } from '../core/run.js';
import type { Store } from '../core/store.js';

const T0 = Date.UTC(2026, 0, 1);

/** A schedule to create, with `overrides`. */
export function sampleSchedule(overrides: Partial<NewSchedule> = {}): NewSchedule {
  return {
    scheduleId: 'nightly',
    flowId: 'reports/daily',
    actionName: 'main',
    spec: { cron: '30 2 * * *', timezone: 'Europe/Paris' },
    startAt: null,
    endAt: null,
    jitterMs: 0,
    maxRuns: null,
    input: { region: 'eu', lines: [1, 2] },
    runAs: null,
    overlap: 'skip',
    catchupWindowMs: 600_000,
    pauseAfterFailures: null,
    owner: 'ana',
    origin: 'api',
    definitionVersion: null,
    paused: false,
    note: null,
    state: freshScheduleState(),
    nextFireAt: T0 + 1_000,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** Registers the schedule tests; `store()` is the fresh store of the current test, `sampleRun` makes a run to create (store.conformance.ts). */
export function describeScheduleConformance(store: () => Store, sampleRun: (overrides?: Partial<NewRun>) => NewRun): void {
  const schedules = () => store().schedules;

  describe('schedules', () => {
    it('creates, reads, lists by flow in id order with paging, and deletes schedules', async () => {
      expect(await schedules().nextDueAt()).toBeNull();
      const created = await schedules().createSchedule(sampleSchedule());
      expect(created).toEqual({ ...sampleSchedule(), version: 1 });
      await expect(schedules().createSchedule(sampleSchedule({ input: 'other' }))).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await schedules().getSchedule('nightly')).toEqual(created);
      expect(await schedules().getSchedule('missing')).toBeNull();
      for (const id of ['b', 'a', 'c']) await schedules().createSchedule(sampleSchedule({ scheduleId: id, flowId: id === 'c' ? 'other' : 'reports/daily' }));
      const first = await schedules().listSchedules({ limit: 2 });
      expect(first.schedules.map((s) => s.scheduleId)).toEqual(['a', 'b']);
      const second = await schedules().listSchedules({ limit: 2, after: first.next! });
      expect(second).toMatchObject({ next: null });
      expect(second.schedules.map((s) => s.scheduleId)).toEqual(['c', 'nightly']);
      expect((await schedules().listSchedules({ limit: 10, flowId: 'reports/daily' })).schedules.map((s) => s.scheduleId)).toEqual(['a', 'b', 'nightly']);
      expect(await schedules().deleteSchedule('b')).toBe(true);
      expect(await schedules().deleteSchedule('b')).toBe(false);
      expect(await schedules().getSchedule('b')).toBeNull();
    });

    it('saves only over the version a save was computed from, and says when the schedule is gone', async () => {
      const created = await schedules().createSchedule(sampleSchedule());
      const state = { ...created.state, lastSlot: T0 + 1_000, runCount: 1, recent: [{ slot: T0 + 1_000, runId: 'r1', status: 'started' as const, at: T0 + 1_002 }] };
      const saved = await schedules().saveSchedule({ schedule: { ...created, state, nextFireAt: T0 + 86_400_000, paused: false }, expectedVersion: 1 });
      expect(saved).toMatchObject({ version: 2, nextFireAt: T0 + 86_400_000, state });
      expect(await schedules().getSchedule('nightly')).toEqual(saved);
      await expect(schedules().saveSchedule({ schedule: { ...created, note: 'stale' }, expectedVersion: 1 })).rejects.toMatchObject({ code: 'CONFLICT' });
      expect((await schedules().getSchedule('nightly'))!.note).toBeNull();
      await schedules().deleteSchedule('nightly');
      await expect(schedules().saveSchedule({ schedule: saved, expectedVersion: 2 })).rejects.toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
    });

    it('saves a set of schedules at once, each only over its version, releasing their claims', async () => {
      for (const id of ['a', 'b', 'c']) await schedules().createSchedule(sampleSchedule({ scheduleId: id }));
      const now = T0 + 10_000;
      const [a, b, c] = await schedules().claimDueSchedules({ owner: 'e1', now, claimUntil: now + 30_000, limit: 10 });
      await schedules().saveSchedule({ schedule: { ...b!, note: 'changed meanwhile' }, expectedVersion: 1 });
      await schedules().deleteSchedule('c');
      const fired = (s: ScheduleRecord) => ({ ...s, state: { ...s.state, lastSlot: T0 + 1_000, runCount: 1 }, nextFireAt: now });
      const saved = await schedules().saveSchedules({ saves: [a!, b!, c!].map((s) => ({ schedule: fired(s), expectedVersion: 1 })) });
      expect(saved).toEqual(['a']);
      expect(await schedules().getSchedule('a')).toEqual({ ...fired(a!), version: 2 });
      expect(await schedules().getSchedule('b')).toMatchObject({ version: 2, note: 'changed meanwhile', state: { runCount: 0 } });
      expect(await schedules().getSchedule('c')).toBeNull();
      // Saved: the claim is released, so the next poll takes it again when due ('b' is still claimed).
      expect((await schedules().claimDueSchedules({ owner: 'e2', now, claimUntil: now + 30_000, limit: 10 })).map((s) => s.scheduleId)).toEqual(['a']);
      expect(await schedules().saveSchedules({ saves: [] })).toEqual([]);
    });

    it('creates the runs of fired slots together, ready to claim, answering which ids were already taken', async () => {
      const log = (code: string) => ({ kind: 'log' as const, entry: { time: T0, code, description: code } });
      const taken = await store().createRun({ run: sampleRun({ label: 'first' }), events: [log('FlowStarted')] });
      const [a, b] = [sampleRun({ source: 'schedule', startTime: T0 }), sampleRun({ source: 'schedule', startTime: T0 })];
      const outcomes = await store().createRuns({ runs: [{ run: a, events: [log('FlowStarted'), log('ScheduleFired')] }, { run: { ...b, runId: taken.run.runId, treeId: taken.run.runId, rootRunId: taken.run.runId }, events: [] }, { run: b, events: [log('FlowStarted')] }] });
      expect(outcomes).toEqual(['created', 'exists', 'created']);
      expect(await store().getRun(a.runId)).toMatchObject({ status: 'ACTIVE', source: 'schedule', lastSeq: 2, leaseOwner: null });
      expect(await store().getRun(taken.run.runId)).toMatchObject({ label: 'first', source: 'http', lastSeq: 1 });
      const claimed = await store().claimRuns({ owner: 'w1', limit: 10, now: T0 + 1, leaseExpiresAt: T0 + 30_000 });
      expect(claimed.map((c) => c.run.runId).sort()).toEqual([a.runId, b.runId, taken.run.runId].sort());
      expect(await store().createRuns({ runs: [] })).toEqual([]);
    });

    it('creates each fired run as createRun does: the same record, events, tags and state read back, a large state included', async () => {
      const log = (code: string) => ({ kind: 'log' as const, entry: { time: T0, code, description: `${code} \u0000 "quoted"`, details: { n: 1 } } });
      const events = [{ kind: 'status' as const, status: 'ACTIVE' as const }, log('FlowStarted'), log('ScheduleFired')];
      const make = (large: boolean): NewRun => {
        const run = sampleRun({ source: 'schedule', startTime: T0, tags: ['schedule:s-1', 'nightly'], input: { region: 'eu', text: 'a\u0000b' } });
        return large ? { ...run, state: { ...run.state, vars: { big: 'x'.repeat(20_000) } } } : run;
      };
      const [alone, together] = [[make(false), make(true)], [make(false), make(true)]] as const;
      for (const run of alone) await store().createRun({ run, events });
      expect(await store().createRuns({ runs: together.map((run) => ({ run, events })) })).toEqual(['created', 'created']);
      const withoutIds = <T extends object>(value: T): unknown => JSON.parse(JSON.stringify(value).replaceAll(/"(runId|treeId|rootRunId)":"[^"]*"/g, '"$1":""'));
      for (const [i, run] of together.entries()) {
        expect(withoutIds((await store().getRun(run.runId))!)).toEqual(withoutIds((await store().getRun(alone[i]!.runId))!));
        expect(withoutIds(await store().getRunEvents(run.runId))).toEqual(withoutIds(await store().getRunEvents(alone[i]!.runId)));
      }
      expect((await store().getRun(together[1]!.runId))!.state.vars).toEqual({ big: 'x'.repeat(20_000) });
      const tagged = await store().listRuns({ tags: ['schedule:s-1'], limit: 10 });
      expect(tagged.runs.map((r) => r.runId).sort()).toEqual([...alone, ...together].map((r) => r.runId).sort());
    });

    it('claims due schedules soonest first, once among claimers, until the claim runs out or a save releases it', async () => {
      await schedules().createSchedule(sampleSchedule({ scheduleId: 'late', nextFireAt: T0 + 5_000 }));
      await schedules().createSchedule(sampleSchedule({ scheduleId: 'soon', nextFireAt: T0 + 1_000 }));
      await schedules().createSchedule(sampleSchedule({ scheduleId: 'paused', paused: true, nextFireAt: null }));
      await schedules().createSchedule(sampleSchedule({ scheduleId: 'future', nextFireAt: T0 + 60_000 }));
      expect(await schedules().nextDueAt()).toBe(T0 + 1_000);
      const now = T0 + 10_000;
      const claimed = await schedules().claimDueSchedules({ owner: 'e1', now, claimUntil: now + 30_000, limit: 10 });
      expect(claimed.map((s) => s.scheduleId)).toEqual(['soon', 'late']);
      expect(claimed[0]!.version).toBe(1);
      expect(claimed.some((s) => 'claimAbandoned' in s)).toBe(false);
      expect(await schedules().claimDueSchedules({ owner: 'e2', now, claimUntil: now + 30_000, limit: 10 })).toEqual([]);
      // A save that releases the claim lets the next poll take it again (when due again).
      const soon = claimed[0]!;
      await schedules().saveSchedule({ schedule: { ...soon, nextFireAt: now }, expectedVersion: soon.version, releaseClaim: true });
      expect((await schedules().claimDueSchedules({ owner: 'e2', now, claimUntil: now + 30_000, limit: 10 })).map((s) => s.scheduleId)).toEqual(['soon']);
      // A claim that ran out is taken by whoever polls after it; the limit holds.
      const later = now + 30_000;
      // Whoever takes a claim that ran out unreleased is told so ('late': e1 never saved it); a released one is not.
      expect(await schedules().claimDueSchedules({ owner: 'e3', now: later, claimUntil: later + 30_000, limit: 1 })).toMatchObject([{ scheduleId: 'late', claimAbandoned: true }]);
      expect((await schedules().claimDueSchedules({ owner: 'e3', now: later, claimUntil: later + 30_000, limit: 5 })).map((s) => s.scheduleId)).toEqual(['soon']);
      await schedules().saveSchedules({ saves: [{ schedule: { ...soon, nextFireAt: later }, expectedVersion: 2 }] });
      expect(await schedules().claimDueSchedules({ owner: 'e1', now: later, claimUntil: later + 30_000, limit: 5 })).toEqual([{ ...soon, nextFireAt: later, version: 3 }]);
    });

    it('claims only after the position a previous claim stopped at, when given it', async () => {
      for (const [id, at] of [['b', 1], ['a', 2], ['c', 2], ['d', 3]] as const) await schedules().createSchedule(sampleSchedule({ scheduleId: id, nextFireAt: T0 + at }));
      const now = T0 + 1_000;
      const first = await schedules().claimDueSchedules({ owner: 'e1', now, claimUntil: now + 30_000, limit: 2 });
      expect(first.map((s) => s.scheduleId)).toEqual(['b', 'a']);
      // 'b' released: due again, but before the position, so this claim leaves it to the next poll.
      await schedules().saveSchedule({ schedule: first[0]!, expectedVersion: 1, releaseClaim: true });
      const next = await schedules().claimDueSchedules({ owner: 'e1', now, claimUntil: now + 30_000, limit: 5, after: { nextFireAt: T0 + 2, scheduleId: 'a' } });
      expect(next.map((s) => s.scheduleId)).toEqual(['c', 'd']);
      expect((await schedules().claimDueSchedules({ owner: 'e1', now, claimUntil: now + 30_000, limit: 5 })).map((s) => s.scheduleId)).toEqual(['b']);
    });

    it('hands each due schedule to exactly one of several claimers polling at once', async () => {
      for (let i = 0; i < 30; i++) await schedules().createSchedule(sampleSchedule({ scheduleId: `s-${String(i).padStart(2, '0')}`, nextFireAt: T0 + i }));
      const now = T0 + 1_000;
      const claims = await Promise.all(['e1', 'e2', 'e3'].map((owner) => schedules().claimDueSchedules({ owner, now, claimUntil: now + 30_000, limit: 12 })));
      const ids = claims.flatMap((c) => c.map((s: ScheduleRecord) => s.scheduleId));
      expect(ids.length).toBe(30);
      expect(new Set(ids).size).toBe(30);
    });
  });
}
