/**
 * The store conformance suite: one set of tests every Store implementation passes (memory,
 * SQLite, PostgreSQL). A backend file runs it in one line; a skip must state its reason.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FlowDefinition } from '../core/model.js';
import type { NewRun, RunEventBody, RunRecord, RunState } from '../core/run.js';
import type { Store, Transition } from '../core/store.js';
import { describePrincipalConformance } from './principal-store.conformance.js';
import { describeOutboxConformance } from './outbox.conformance.js';
import { describeRunTreeConformance } from './run-tree.conformance.js';
import { describeRunCountConformance } from './run-count.conformance.js';
import { describeEndedCreationConformance } from './ended-creation.conformance.js';
import { describeStateSlotConformance } from './state-slots.conformance.js';
import { describeRunListingConformance } from './run-listing.conformance.js';
import { describeEventWaitersConformance } from './event-waiters.conformance.js';
import { describeReadGenerationConformance } from './read-generation.conformance.js';
import { describeCommitObserverConformance } from './commit-observer.conformance.js';
import { describeExclusiveWorkConformance } from './exclusive-work.conformance.js';
import { describeTransientConformance } from './transient.conformance.js';
import { describeScheduleConformance } from './schedule-store.conformance.js';

/** Options of {@link runStoreConformance}. */
export interface StoreConformanceOptions {
  name: string;
  /** A fresh, empty store for each test. */
  createStore: () => Promise<Store>;
  /** Skip the whole suite, with the reason (e.g. no database configured). */
  skip?: string | false;
  /** Damages a run's stored data behind the store's back (unparsable or ill-shaped JSON); absent: why that cannot happen. */
  corruptRun?: ((store: Store, runId: string) => Promise<void>) | { skip: string };
  /** Another store object over the same database as `store`, as another process opens it; absent: why no other process can share it. */
  openAnother?: ((store: Store) => Store) | { skip: string };
}

const T0 = Date.UTC(2026, 0, 1);
/** A W3C trace context as a tracer records it with a run (core/tracing.ts). */
const TRACE = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=1' };

const state = (extra: Partial<RunState> = {}): RunState => ({
  frames: [{ graph: 'action:main', at: 'a', steps: {}, last: null, depth: 0, attempt: 1 }],
  vars: {},
  outputs: {},
  stepSeq: 0,
  stepLogs: true,
  historyCount: 0,
  ...extra,
});

let counter = 0;
/** A new run with sensible defaults; ids are unique across the suite. */
export function sampleRun(overrides: Partial<NewRun> = {}): NewRun {
  counter += 1;
  const runId = overrides.runId ?? `run-${String(counter).padStart(6, '0')}-${Math.random().toString(36).slice(2, 8)}`;
  return {
    runId,
    flowId: 'orders/process',
    flowVersion: 1,
    actionName: 'main',
    status: 'ACTIVE',
    label: null,
    tags: [],
    input: { order: { id: 'o-1', lines: [1, 2] } },
    createdBy: 'user_42',
    runOwner: 'user_42',
    runAs: null,
    triggeredBy: null,
    source: 'http',
    sessionId: null,
    parentRunId: null,
    rootRunId: overrides.rootRunId ?? runId,
    treeId: overrides.treeId ?? overrides.rootRunId ?? runId,
    detached: false,
    depth: 0,
    monitors: { users: [], groups: [] },
    managers: { users: [], groups: [] },
    startTime: T0,
    timeoutMs: null,
    deadline: null,
    readyAt: T0,
    state: state(),
    ...overrides,
  };
}

const log = (code: string, time = T0): RunEventBody => ({ kind: 'log', entry: { time, code, description: `${code} happened`, details: { n: 1 } } });

const flow = (id: string, expression = '1'): FlowDefinition => ({ id, actions: { main: { startAt: 's', steps: { s: { stepType: 'COMPUTE', expression } } } } });

/** Runs the conformance suite against one backend. */
export function runStoreConformance(options: StoreConformanceOptions): void {
  describe.skipIf(Boolean(options.skip))(`store conformance: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await options.createStore();
    });
    afterEach(async () => {
      await store.close();
    });
    describePrincipalConformance(() => store);
    describeOutboxConformance(() => store, sampleRun);
    describeRunCountConformance(() => store, sampleRun);
    describeEndedCreationConformance(() => store, sampleRun);
    describeReadGenerationConformance(() => store, sampleRun);
    describeScheduleConformance(() => store, sampleRun);

    async function leased(overrides: Partial<NewRun> = {}, events: RunEventBody[] = [log('FlowStarted')]): Promise<{ run: RunRecord; token: number; owner: string }> {
      const created = await store.createRun({ run: sampleRun(overrides), events, lease: { owner: 'w1', expiresAt: T0 + 30_000 } });
      if (!created.lease) throw new Error('expected a lease');
      return { run: created.run, token: created.lease.fencingToken, owner: 'w1' };
    }

    function transition(run: Pick<RunRecord, 'runId' | 'version'>, token: number, extra: Partial<Transition> = {}): Transition {
      return { runId: run.runId, lease: { owner: 'w1', fencingToken: token }, expectedVersion: run.version, at: T0 + 10, patch: {}, ...extra };
    }
    describeRunTreeConformance({ store: () => store, sampleRun, leased, transition, t0: T0 });
    describeStateSlotConformance({ store: () => store, leased, transition, t0: T0 });
    describeRunListingConformance(() => store, sampleRun, T0);
    describeEventWaitersConformance({ store: () => store, leased, transition, t0: T0 });
    describeCommitObserverConformance({ store: () => store, sampleRun, leased, transition });
    describeExclusiveWorkConformance(() => store);
    describeTransientConformance({ store: () => store, openAnother: options.openAnother ?? { skip: 'no openAnother given' } });

    describe('flows', () => {
      it('numbers versions per flow and returns the latest version for an identical redeploy', async () => {
        const v1 = await store.saveFlowVersion({ definition: flow('a'), deployedBy: 'u', at: T0 });
        const again = await store.saveFlowVersion({ definition: JSON.parse(JSON.stringify(flow('a'))) as FlowDefinition, deployedBy: 'u', at: T0 + 1 });
        const v2 = await store.saveFlowVersion({ definition: flow('a', '2'), deployedBy: 'u', at: T0 + 2 });
        const other = await store.saveFlowVersion({ definition: flow('b'), deployedBy: 'u', at: T0 + 3 });
        expect([v1.version, again.version, v2.version, other.version]).toEqual([1, 1, 2, 1]);
        expect(v1).toMatchObject({ flowId: 'a', deployedBy: 'u', deployedAt: T0, published: false, definition: flow('a') });
      });

      it('keeps the .flow source a version was deployed with; another source of the same definition is a new version', async () => {
        const text = 'machine a\n  # the first\n';
        const v1 = await store.saveFlowVersion({ definition: flow('a'), deployedBy: 'u', at: T0, source: { fileName: 'a.flow', text } });
        const again = await store.saveFlowVersion({ definition: flow('a'), deployedBy: 'u', at: T0 + 1, source: { fileName: 'a.flow', text } });
        const edited = await store.saveFlowVersion({ definition: flow('a'), deployedBy: 'u', at: T0 + 2, source: { fileName: 'a.flow', text: `${text}# a comment\n` } });
        const asJson = await store.saveFlowVersion({ definition: flow('a'), deployedBy: 'u', at: T0 + 3 });
        expect([v1.version, again.version, edited.version, asJson.version]).toEqual([1, 1, 2, 3]);
        expect(v1.source).toEqual({ fileName: 'a.flow', text });
        expect((await store.getFlowVersion('a', 1))?.source).toEqual({ fileName: 'a.flow', text });
        await store.publishFlowVersion({ flowId: 'a', version: 2 });
        expect((await store.getFlowVersion('a', 'LATEST_PUBLISHED'))?.source).toEqual({ fileName: 'a.flow', text: `${text}# a comment\n` });
        const latest = await store.getFlowVersion('a', 'LATEST');
        expect(latest?.version).toBe(3);
        expect(latest).not.toHaveProperty('source');
      });

      it('publishes exactly one version and resolves LATEST_PUBLISHED, LATEST and numbers', async () => {
        await store.saveFlowVersion({ definition: flow('a'), deployedBy: 'u', at: T0 });
        await store.saveFlowVersion({ definition: flow('a', '2'), deployedBy: 'u', at: T0 + 1 });
        expect(await store.getFlowVersion('a', 'LATEST_PUBLISHED')).toBeNull();
        await store.publishFlowVersion({ flowId: 'a', version: 2 });
        await store.publishFlowVersion({ flowId: 'a', version: 1 });
        expect((await store.getFlowVersion('a', 'LATEST_PUBLISHED'))?.version).toBe(1);
        expect((await store.getFlowVersion('a', 'LATEST'))?.version).toBe(2);
        expect((await store.getFlowVersion('a', 2))?.published).toBe(false);
        expect(await store.getFlowVersion('a', 3)).toBeNull();
        expect(await store.getFlowVersion('missing', 'LATEST')).toBeNull();
        await expect(store.publishFlowVersion({ flowId: 'a', version: 9 })).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND' });
        const summaries = await store.listFlows();
        expect(summaries).toEqual([expect.objectContaining({ flowId: 'a', latestVersion: 2, publishedVersion: 1 })]);
      });
    });

    describe('creating and reading runs', () => {
      it('stores every field of a run and its first events', async () => {
        const input = sampleRun({ label: 'nightly', tags: ['x', 'y'], sessionId: 's-1', runAs: 'svc', triggeredBy: 'ada', timeoutMs: 5_000, deadline: T0 + 5_000, monitors: { users: ['m'], groups: ['g'] }, traceContext: TRACE });
        const created = await store.createRun({ run: input, events: [{ kind: 'status', status: 'ACTIVE' }, log('FlowStarted')] });
        expect(created.lease).toBeNull();
        const run = await store.getRun(input.runId);
        expect(run).toMatchObject({ ...input, version: 0, lastSeq: 2, leaseOwner: null, output: null, runError: null, endTime: null });
        const events = await store.getRunEvents(input.runId);
        expect(events.map((e) => [e.seq, e.kind])).toEqual([
          [1, 'status'],
          [2, 'log'],
        ]);
        expect(events[1]).toMatchObject({ runId: input.runId, entry: { code: 'FlowStarted', details: { n: 1 } } });
      });

      it('gives the creator the lease at once when asked', async () => {
        const { run, token } = await leased();
        expect(token).toBe(1);
        expect(run).toMatchObject({ leaseOwner: 'w1', leaseExpiresAt: T0 + 30_000, fencingToken: 1 });
      });

      it('refuses a second run with the same id', async () => {
        const run = sampleRun();
        await store.createRun({ run });
        await expect(store.createRun({ run })).rejects.toMatchObject({ code: 'CONFLICT' });
      });

      it('returns copies: changing a returned record changes nothing stored', async () => {
        const run = sampleRun();
        await store.createRun({ run });
        const read = await store.getRun(run.runId);
        (read!.input as { order: { id: string } }).order.id = 'changed';
        read!.tags.push('x');
        expect(await store.getRun(run.runId)).toMatchObject({ input: { order: { id: 'o-1' } }, tags: [] });
        expect(await store.getRun('missing')).toBeNull();
      });
    });

    describe('claims, leases and fencing', () => {
      it('claims only ACTIVE runs that are ready and not leased, up to the limit', async () => {
        await store.createRun({ run: sampleRun({ runId: 'ready-1' }) });
        await store.createRun({ run: sampleRun({ runId: 'ready-2' }) });
        await store.createRun({ run: sampleRun({ runId: 'later', readyAt: T0 + 60_000 }) });
        await store.createRun({ run: sampleRun({ runId: 'waiting', readyAt: null }) });
        await store.createRun({ run: sampleRun({ runId: 'done', status: 'SUCCEEDED' }) });
        await leased({ runId: 'held' });
        const first = await store.claimRuns({ owner: 'w2', limit: 1, now: T0 + 1, leaseExpiresAt: T0 + 30_001 });
        const rest = await store.claimRuns({ owner: 'w2', limit: 10, now: T0 + 1, leaseExpiresAt: T0 + 30_001 });
        expect(first).toHaveLength(1);
        expect([...first, ...rest].map((c) => c.run.runId).sort()).toEqual(['ready-1', 'ready-2']);
        expect(first[0]!.lease).toMatchObject({ owner: 'w2', fencingToken: 1, expiresAt: T0 + 30_001 });
        expect(await store.claimRuns({ owner: 'w3', limit: 10, now: T0 + 2, leaseExpiresAt: T0 + 30_002 })).toEqual([]);
      });

      it('never hands one run to two concurrent claimers', async () => {
        for (let i = 0; i < 40; i++) await store.createRun({ run: sampleRun({ runId: `c-${i}` }) });
        const rounds = await Promise.all(['a', 'b', 'c', 'd'].map((owner) => store.claimRuns({ owner, limit: 15, now: T0 + 1, leaseExpiresAt: T0 + 30_000 })));
        const ids = rounds.flat().map((c) => c.run.runId);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.length).toBe(40);
        const single = await Promise.all(['x', 'y', 'z'].map((owner) => store.claimRun({ runId: 'lone', owner, now: T0, leaseExpiresAt: T0 + 1 })));
        expect(single.every((c) => c === null)).toBe(true);
        await store.createRun({ run: sampleRun({ runId: 'lone' }) });
        const race = await Promise.all(['x', 'y', 'z'].map((owner) => store.claimRun({ runId: 'lone', owner, now: T0 + 1, leaseExpiresAt: T0 + 30_000 })));
        expect(race.filter((c) => c !== null)).toHaveLength(1);
      });

      it('lets another owner take over an expired lease, and fences the old owner out', async () => {
        const { run, token } = await leased();
        expect(await store.claimRun({ runId: run.runId, owner: 'w2', now: T0 + 29_999, leaseExpiresAt: T0 + 60_000 })).toBeNull();
        const taken = await store.claimRun({ runId: run.runId, owner: 'w2', now: T0 + 30_000, leaseExpiresAt: T0 + 60_000 });
        expect(taken?.lease.fencingToken).toBe(token + 1);
        await expect(store.recordTransition(transition(run, token, { events: [log('Late')] }))).rejects.toMatchObject({ code: 'LEASE_LOST' });
        const after = await store.recordTransition({ ...transition(taken!.run, taken!.lease.fencingToken, { events: [log('Fresh')] }), lease: { owner: 'w2', fencingToken: taken!.lease.fencingToken } });
        expect(after.version).toBe(1);
        expect((await store.getRunEvents(run.runId)).map((e) => (e.kind === 'log' ? e.entry.code : e.kind))).toEqual(['FlowStarted', 'Fresh']);
      });

      it('claims a suspended (INACTIVE) run only when asked for one, by one claimer at a time', async () => {
        const { run, token } = await leased({ runId: 'suspended' });
        const parked = await store.recordTransition(transition(run, token, { patch: { status: 'INACTIVE', readyAt: null }, releaseLease: true }));
        expect(parked).toMatchObject({ status: 'INACTIVE', leaseOwner: null, readyAt: null });
        expect(await store.claimRun({ runId: 'suspended', owner: 'w2', now: T0 + 20, leaseExpiresAt: T0 + 30_000 })).toBeNull();
        expect(await store.claimRuns({ owner: 'w2', limit: 10, now: T0 + 20, leaseExpiresAt: T0 + 30_000 })).toEqual([]);
        const race = await Promise.all(['x', 'y', 'z'].map((owner) => store.claimRun({ runId: 'suspended', owner, now: T0 + 20, leaseExpiresAt: T0 + 30_000, status: 'INACTIVE' })));
        const winner = race.find((c) => c !== null)!;
        expect(race.filter((c) => c !== null)).toHaveLength(1);
        const resumed = await store.recordTransition({
          runId: 'suspended',
          lease: { owner: winner.lease.owner, fencingToken: winner.lease.fencingToken },
          expectedVersion: winner.run.version,
          at: T0 + 30,
          patch: { status: 'ACTIVE', readyAt: T0 + 30 },
          events: [{ kind: 'status', status: 'ACTIVE' }],
          releaseLease: true,
        });
        expect(resumed).toMatchObject({ status: 'ACTIVE', leaseOwner: null });
        expect(await store.claimRun({ runId: 'suspended', owner: 'w3', now: T0 + 40, leaseExpiresAt: T0 + 30_000, status: 'INACTIVE' })).toBeNull();
        expect(await store.claimRun({ runId: 'suspended', owner: 'w3', now: T0 + 40, leaseExpiresAt: T0 + 30_000 })).not.toBeNull();
      });

      it('claims INACTIVE runs whose timer is due only when asked for them', async () => {
        const { run, token } = await leased({ runId: 'timer' });
        await store.recordTransition(transition(run, token, { patch: { status: 'INACTIVE', readyAt: T0 + 100 }, releaseLease: true }));
        const { run: other, token: otherToken } = await leased({ runId: 'approval' });
        await store.recordTransition(transition(other, otherToken, { patch: { status: 'INACTIVE', readyAt: null }, releaseLease: true }));
        expect(await store.claimRuns({ owner: 'w2', limit: 10, now: T0 + 50, leaseExpiresAt: T0 + 30_000, status: 'INACTIVE' })).toEqual([]);
        expect(await store.claimRuns({ owner: 'w2', limit: 10, now: T0 + 100, leaseExpiresAt: T0 + 30_000 })).toEqual([]);
        const due = await store.claimRuns({ owner: 'w2', limit: 10, now: T0 + 100, leaseExpiresAt: T0 + 30_000, status: 'INACTIVE' });
        expect(due.map((c) => [c.run.runId, c.run.status, c.lease.owner])).toEqual([['timer', 'INACTIVE', 'w2']]);
        expect(await store.claimRuns({ owner: 'w3', limit: 10, now: T0 + 200, leaseExpiresAt: T0 + 30_000, status: 'INACTIVE' })).toEqual([]);
      });

      it('renews only the leases an owner still holds', async () => {
        const a = await leased({ runId: 'renew-a' });
        await leased({ runId: 'renew-b' });
        await store.claimRun({ runId: 'renew-b', owner: 'w9', now: T0 + 40_000, leaseExpiresAt: T0 + 70_000 });
        const held = await store.renewLeases({ owner: 'w1', runIds: ['renew-a', 'renew-b', 'missing'], expiresAt: T0 + 90_000 });
        expect(held).toEqual(['renew-a']);
        expect((await store.getRun(a.run.runId))?.leaseExpiresAt).toBe(T0 + 90_000);
      });
    });

    describe('transitions', () => {
      it('applies a transition atomically: state, events, items, version and lastSeq', async () => {
        const { run, token } = await leased();
        const newState = state({ stepSeq: 1, vars: { total: 3 } });
        const item = { id: 'i1', type: 'message', status: 'in_progress' as const, content: 'Hel', transient: false, runId: run.runId, createdAt: T0, updatedAt: T0 };
        const after = await store.recordTransition(
          transition(run, token, { patch: { state: newState }, events: [log('StepSucceeded'), { kind: 'item', change: 'added', item }], items: [item] }),
        );
        expect(after).toMatchObject({ version: 1, lastSeq: 3, updatedAt: T0 + 10, state: newState, leaseOwner: 'w1' });
        const second = await store.recordTransition(
          transition(after, token, { items: [{ ...item, content: 'Hello', status: 'done' }, { ...item, id: 'i2', content: 'second' }], events: [log('More')] }),
        );
        expect(second.lastSeq).toBe(4);
        expect((await store.getRunItems(run.runId)).map((i) => [i.id, i.content, i.status])).toEqual([
          ['i1', 'Hello', 'done'],
          ['i2', 'second', 'in_progress'],
        ]);
      });

      it('treats a repeat of the last transition as done, and a stale version as a conflict', async () => {
        const { run, token } = await leased();
        const t = transition(run, token, { events: [log('Once')] });
        await store.recordTransition(t);
        const repeat = await store.recordTransition(t);
        expect(repeat.version).toBe(1);
        expect((await store.getRunEvents(run.runId)).filter((e) => e.kind === 'log' && e.entry.code === 'Once')).toHaveLength(1);
        await expect(store.recordTransition({ ...t, expectedVersion: 5 })).rejects.toMatchObject({ code: 'LEASE_LOST' });
        await expect(store.recordTransition({ ...t, runId: 'missing' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
      });

      it('ends a run: terminal fields set, lease released, later writes refused', async () => {
        const { run, token } = await leased();
        const ended = await store.recordTransition(
          transition(run, token, { patch: { status: 'SUCCEEDED', output: { ok: true }, runError: null, endTime: T0 + 10, readyAt: null }, events: [{ kind: 'status', status: 'SUCCEEDED' }] }),
        );
        expect(ended).toMatchObject({ status: 'SUCCEEDED', output: { ok: true }, endTime: T0 + 10, leaseOwner: null, readyAt: null });
        await expect(store.recordTransition(transition(ended, token))).rejects.toMatchObject({ code: 'LEASE_LOST' });
      });

      it('creates child runs with their events and wakes a waiting parent in the same transition', async () => {
        const parent = await leased({ runId: 'parent' });
        const child = sampleRun({ runId: 'child', parentRunId: 'parent', rootRunId: 'parent', depth: 1, triggeredBy: 'ada', traceContext: TRACE });
        const waiting = await store.recordTransition(
          transition(parent.run, parent.token, { createRuns: [{ run: child, events: [log('FlowStarted')] }], releaseLease: true, patch: { readyAt: null } }),
        );
        expect(waiting).toMatchObject({ leaseOwner: null, readyAt: null });
        expect(await store.getRun('child')).toMatchObject({ parentRunId: 'parent', lastSeq: 1, status: 'ACTIVE', triggeredBy: 'ada' });
        expect(await store.claimRun({ runId: 'parent', owner: 'w1', now: T0 + 20, leaseExpiresAt: T0 + 100 })).toBeNull();
        const claimedChild = await store.claimRun({ runId: 'child', owner: 'w1', now: T0 + 20, leaseExpiresAt: T0 + 100 });
        expect(claimedChild?.run.traceContext).toEqual(TRACE); // another process continues the child's trace
        await store.recordTransition({
          ...transition(claimedChild!.run, claimedChild!.lease.fencingToken),
          at: T0 + 30,
          patch: { status: 'SUCCEEDED', endTime: T0 + 30, output: 1 },
          wakeRuns: ['parent', 'missing'],
        });
        expect((await store.getRun('parent'))?.readyAt).toBe(T0 + 30);
        expect((await store.getRun('parent'))?.leaseOwner).toBeNull();
        expect(await store.claimRun({ runId: 'parent', owner: 'w1', now: T0 + 30, leaseExpiresAt: T0 + 100 })).not.toBeNull();
      });

      it('leases a created run to the writer when asked, so nobody else claims it', async () => {
        const parent = await leased({ runId: 'leasing-parent' });
        await store.recordTransition(
          transition(parent.run, parent.token, { createRuns: [{ run: sampleRun({ runId: 'leased-child', parentRunId: 'leasing-parent' }), events: [log('FlowStarted')], lease: { owner: 'w1', expiresAt: T0 + 30_000 } }] }),
        );
        expect(await store.getRun('leased-child')).toMatchObject({ leaseOwner: 'w1', leaseExpiresAt: T0 + 30_000, fencingToken: 1, lastSeq: 1 });
        expect(await store.claimRun({ runId: 'leased-child', owner: 'w2', now: T0 + 20, leaseExpiresAt: T0 + 60_000 })).toBeNull();
        expect(await store.claimRun({ runId: 'leased-child', owner: 'w2', now: T0 + 30_000, leaseExpiresAt: T0 + 60_000 })).toMatchObject({ lease: { fencingToken: 2 } });
      });

      it('leases a woken parent to the waker when asked, unless someone holds it', async () => {
        const parent = await leased({ runId: 'waker-parent' });
        const child = sampleRun({ runId: 'waker-child', parentRunId: 'waker-parent' });
        await store.recordTransition(transition(parent.run, parent.token, { createRuns: [{ run: child, events: [], lease: { owner: 'w1', expiresAt: T0 + 30_000 } }], releaseLease: true, patch: { readyAt: null } }));
        const childRun = (await store.getRun('waker-child'))!;
        await store.recordTransition({
          ...transition(childRun, 1),
          at: T0 + 40,
          patch: { status: 'SUCCEEDED', endTime: T0 + 40 },
          wakeRuns: ['waker-parent'],
          wakeLease: { owner: 'w1', expiresAt: T0 + 50_000 },
        });
        expect(await store.getRun('waker-parent')).toMatchObject({ readyAt: T0 + 40, leaseOwner: 'w1', leaseExpiresAt: T0 + 50_000, fencingToken: parent.token + 1 });
        // A woken run someone else holds keeps its holder.
        const other = await leased({ runId: 'held-parent' });
        const c2 = await leased({ runId: 'held-child', parentRunId: 'held-parent' });
        await store.recordTransition({ ...transition(c2.run, c2.token), at: T0 + 40, patch: { status: 'SUCCEEDED', endTime: T0 + 40 }, wakeRuns: ['held-parent'], wakeLease: { owner: 'w9', expiresAt: T0 + 50_000 } });
        expect(await store.getRun('held-parent')).toMatchObject({ leaseOwner: 'w1', fencingToken: other.token });
      });

      it('rejects a whole transition whose child id exists, changing nothing', async () => {
        const existing = sampleRun({ runId: 'taken' });
        await store.createRun({ run: existing });
        const { run, token } = await leased();
        await expect(
          store.recordTransition(transition(run, token, { patch: { state: state({ stepSeq: 9 }) }, events: [log('Nope')], createRuns: [{ run: sampleRun({ runId: 'taken' }), events: [] }] })),
        ).rejects.toMatchObject({ code: 'CONFLICT' });
        expect(await store.getRun(run.runId)).toMatchObject({ version: 0, lastSeq: 1, state: { stepSeq: 0 } });
      });

      it('rejects a whole transition that creates two children with one id, changing nothing', async () => {
        const { run, token } = await leased();
        const twin = (): { run: NewRun; events: RunEventBody[] } => ({ run: sampleRun({ runId: 'twin' }), events: [log('FlowStarted')] });
        await expect(store.recordTransition(transition(run, token, { patch: { state: state({ stepSeq: 9 }) }, createRuns: [twin(), twin()] }))).rejects.toMatchObject({ code: 'CONFLICT' });
        expect(await store.getRun('twin')).toBeNull();
        expect(await store.getRun(run.runId)).toMatchObject({ version: 0, lastSeq: 1, state: { stepSeq: 0 } });
      });
    });

    describe('cancel and update', () => {
      it('cancels a running run, fences its executor and wakes its parent', async () => {
        await store.createRun({ run: sampleRun({ runId: 'p', readyAt: null }) });
        const { run, token } = await leased({ runId: 'c', parentRunId: 'p' });
        const canceled = await store.cancelRun({ runId: 'c', at: T0 + 5, events: [log('FlowCanceled')], runError: { code: 'CANCELED', description: 'by request' }, wakeRuns: ['p'] });
        expect(canceled).toMatchObject({ status: 'CANCELED', endTime: T0 + 5, runError: { code: 'CANCELED' }, leaseOwner: null });
        await expect(store.recordTransition(transition(run, token))).rejects.toMatchObject({ code: 'LEASE_LOST' });
        expect((await store.getRun('p'))?.readyAt).toBe(T0 + 5);
        expect(await store.cancelRun({ runId: 'c', at: T0 + 6, events: [], runError: { code: 'CANCELED', description: 'again' } })).toBeNull();
        await expect(store.cancelRun({ runId: 'missing', at: T0, events: [], runError: { code: 'CANCELED', description: '' } })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
      });

      it('updates label and tags', async () => {
        const run = sampleRun();
        await store.createRun({ run });
        const updated = await store.updateRun({ runId: run.runId, at: T0 + 1, label: 'renamed', tags: ['a', 'b'] });
        expect(updated).toMatchObject({ label: 'renamed', tags: ['a', 'b'] });
        expect((await store.listRuns({ tags: ['b'] })).runs.map((r) => r.runId)).toEqual([run.runId]);
        await expect(store.updateRun({ runId: 'missing', at: T0, label: 'x' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
      });
    });

    describe('events, logs and items', () => {
      it('pages events by sequence number and kind, and logs by position', async () => {
        const { run, token } = await leased({}, [log('L1'), { kind: 'status', status: 'ACTIVE' }]);
        await store.recordTransition(transition(run, token, { events: [log('L2'), { kind: 'output', name: 'x', value: 1 }, log('L3')] }));
        expect((await store.getRunEvents(run.runId, { afterSeq: 2 })).map((e) => e.seq)).toEqual([3, 4, 5]);
        expect((await store.getRunEvents(run.runId, { afterSeq: 1, limit: 2 })).map((e) => e.seq)).toEqual([2, 3]);
        expect((await store.getRunEvents(run.runId, { kinds: ['output'] })).map((e) => e.seq)).toEqual([4]);
        const page = await store.getRunLogs(run.runId, { offset: 1, limit: 1 });
        expect(page).toEqual({ total: 3, entries: [expect.objectContaining({ code: 'L2' })] });
        expect(await store.getRunEvents('missing')).toEqual([]);
      });
    });

    describe('ping', () => {
      it('answers while the store is open and fails with STORE_ERROR once it is closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_ERROR' });
      });
    });

    describe('retention', () => {
      it('deletes ended runs older than the cutoff, in bounded batches, with their events and items', async () => {
        for (const [runId, end] of [
          ['old-1', T0 + 10],
          ['old-2', T0 + 20],
          ['old-3', T0 + 30],
          ['new', T0 + 1_000],
        ] as const) {
          await store.createRun({ run: sampleRun({ runId }), events: [log('FlowStarted')] });
          await store.cancelRun({ runId, at: end, events: [log('FlowCanceled')], runError: { code: 'CANCELED', description: '' } });
        }
        await store.createRun({ run: sampleRun({ runId: 'active' }) });
        expect(await store.deleteEndedRuns({ endedBefore: T0 + 500, limit: 2 })).toBe(2);
        expect(await store.deleteEndedRuns({ endedBefore: T0 + 500, limit: 2 })).toBe(1);
        expect(await store.deleteEndedRuns({ endedBefore: T0 + 500, limit: 2 })).toBe(0);
        expect(await store.getRun('old-1')).toBeNull();
        expect(await store.getRunEvents('old-3')).toEqual([]);
        expect(await store.getRun('new')).not.toBeNull();
        expect(await store.getRun('active')).not.toBeNull();
      });
    });

    const corrupt = options.corruptRun;
    describe.skipIf(typeof corrupt !== 'function')(`unreadable runs${typeof corrupt === 'object' ? ` (skipped: ${corrupt.skip})` : ''}`, () => {
      it('returns a run whose stored data cannot be read marked with dataError, and the rest of its page intact', async () => {
        for (const [runId, at] of [['fine-1', T0], ['broken', T0 + 1], ['fine-2', T0 + 2]] as const) await store.createRun({ run: sampleRun({ runId, startTime: at, label: runId }) });
        await (corrupt as (store: Store, runId: string) => Promise<void>)(store, 'broken');
        const page = await store.listRuns({ orderBy: 'startTime', orderDir: 'asc' });
        expect(page.runs.map((r) => [r.runId, r.label, r.dataError?.code ?? null])).toEqual([['fine-1', 'fine-1', null], ['broken', 'broken', 'RUN_DATA_UNREADABLE'], ['fine-2', 'fine-2', null]]);
        expect(await store.getRun('broken')).toMatchObject({ runId: 'broken', status: 'ACTIVE', input: null, dataError: { code: 'RUN_DATA_UNREADABLE', message: expect.stringContaining('broken') } });
        expect((await store.getRun('fine-2'))?.dataError).toBeUndefined();
      });
    });
  });
}
