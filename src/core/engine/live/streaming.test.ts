/**
 * Streamed outputs (seed 000, DESIGN.md §3 "Streaming"): a callee's writes to a streamable returned
 * output reach its caller while it runs, in coherent snapshots at most one per 10 ms per call; end
 * of run is authoritative; later writes are ignored; a failed or canceled callee writes nothing.
 * Checked through `runAction` and through a RUN_FLOW caller, on the memory and the SQLite store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, createFilesystemStores, createMemoryStores, type FlowDefinition, type LiveRunEvent, type Store } from '../../../index.js';
import { createManualClock, type ManualClock } from '../../../testing/index.js';
import { STREAM_INTERVAL_MS } from './snapshot-throttle.js';
import type { Module } from '../types.js';

const LINE = { type: 'object', properties: { id: { type: 'number' }, name: { type: 'string' } } };
const BASE_LINE = { id: -1, name: 'already on the page' };

/** Appends `total` lines (each with a runtime property no class declares) and counts them; `batch` appends per clock tick. */
const callee: FlowDefinition = {
  id: 'catalog/fill',
  classes: { Line: LINE },
  actions: {
    main: {
      params: { total: { type: 'number', required: true }, batch: { type: 'number', default: 100 }, fail: { type: 'boolean', default: false } },
      outputs: {
        lines: { collection: 'Line', returned: true, streamable: true },
        count: { type: 'number', returned: true, streamable: true, default: 0 },
        note: { type: 'text', returned: true },
      },
      startAt: 'fill',
      steps: {
        fill: { stepType: 'MODULE', moduleIdentifier: 'fill', inputMappings: { total: '$.input.total', batch: '$.input.batch' }, defaultNextStepInstanceId: 'check' },
        check: { stepType: 'DECIDE', transitions: [{ condition: 'input.fail', nextStepInstanceId: 'boom' }], defaultNextStepInstanceId: 'note' },
        boom: { stepType: 'FAIL', code: 'OUT_OF_STOCK', description: 'the catalog ran dry' },
        note: { stepType: 'SET', target: '$.outputs.note', expression: '"filled " + outputs.count' },
      },
    },
  },
};

/** Shows the catalog on a page that already has a line: merge into its lines, replace its count. */
function page(id: string, target: string, catchCodes: string[] = []): FlowDefinition {
  return {
    id,
    classes: { Line: LINE },
    actions: {
      main: {
        params: { total: { type: 'number', required: true }, fail: { type: 'boolean', default: false } },
        outputs: {
          lines: { collection: 'Line', returned: true, streamable: true, default: [BASE_LINE] },
          count: { type: 'number', returned: true, streamable: true, default: 0 },
          note: { type: 'text', returned: true, default: 'empty' },
        },
        startAt: 'call',
        steps: {
          call: {
            stepType: 'RUN_FLOW',
            flowDefinitionId: target,
            inputMappings: { total: '$.input.total', fail: '$.input.fail' },
            returnMappings: [
              { output: 'lines', target: '$.outputs.lines', mode: 'merge' },
              { output: 'count', target: '$.outputs.count' },
              { output: 'note', target: '$.outputs.note' },
            ],
            ...(catchCodes.length ? { catch: [{ errorEquals: catchCodes, next: 'after' }] } : {}),
            defaultNextStepInstanceId: 'after',
          },
          after: { stepType: 'COMPUTE', expression: '"done"' },
        },
      },
    },
  };
}

/** A report of onOutput, with the clock time it arrived. */
interface Report {
  name: string;
  value: unknown;
  at: number;
}

function fillModule(clock: ManualClock, options: { lateWrites?: boolean; forever?: boolean } = {}): Module {
  return async (input, ctx) => {
    const total = input.total as number;
    const batch = input.batch as number;
    for (let i = 0; options.forever || i < total; i++) {
      ctx.append('lines', { id: i, name: `line ${i}`, debug: 'runtime only' });
      ctx.write('count', i + 1);
      if ((i + 1) % batch === 0) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        await new Promise((resolve) => clock.setTimeout(() => resolve(null), 1));
      }
    }
    if (options.lateWrites) {
      clock.setTimeout(() => {
        ctx.append('lines', { id: 999_999, name: 'late' });
        ctx.write('count', -1);
      }, 5);
    }
    return 'filled';
  };
}

/** Advances the manual clock 1 ms at a time until `done` settles; returns its value. */
async function drive<T>(clock: ManualClock, done: Promise<T>): Promise<T> {
  let settled = false;
  const result = done.finally(() => (settled = true));
  for (let i = 0; i < 100_000 && !settled; i++) await clock.advance(1);
  return result;
}

/**
 * Advances the manual clock 1 ms at a time until `ready()`, letting I/O callbacks run now and then:
 * a SQLite commit settles after its fsync in the thread pool, which no fake millisecond hastens.
 */
async function advanceUntil(clock: ManualClock, ready: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !ready(); i++) {
    await clock.advance(1);
    if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Checks that every `lines` snapshot is the base (when merged) plus lines 0..k-1, none torn, and that `count` follows with k. */
function expectCoherent(reports: Report[], withBase: boolean): number[] {
  const sizes: number[] = [];
  reports.forEach((report, i) => {
    if (report.name !== 'lines') return;
    const lines = report.value as { id: number; name: string }[];
    const streamed = withBase ? lines.slice(1) : lines;
    if (withBase) expect(lines[0]).toEqual(BASE_LINE);
    expect(streamed.map((l) => l.id)).toEqual(streamed.map((_, k) => k));
    const next = reports[i + 1];
    if (next?.name === 'count') expect(next.value).toBe(streamed.length);
    sizes.push(streamed.length);
  });
  return sizes;
}

const tempRoot = mkdtempSync(join(tmpdir(), 'flowrun-streaming-'));
const openStores: Store[] = [];
afterAll(async () => {
  for (const store of openStores) await store.close();
  rmSync(tempRoot, { recursive: true, force: true });
});

const storeKinds: [string, () => Store][] = [
  ['memory', () => createMemoryStores()],
  ['SQLite', () => {
    const store = createFilesystemStores({ rootDir: mkdtempSync(join(tempRoot, 'db-')) });
    openStores.push(store);
    return store;
  }],
];

describe.each(storeKinds)('streamed outputs on the %s store', (_kind, createStore) => {
  function setup(options: { lateWrites?: boolean; forever?: boolean } = {}) {
    const clock = createManualClock();
    const engine = createEngine({ stores: createStore(), clock, poll: false, modules: { fill: fillModule(clock, options) } });
    return { clock, engine };
  }

  it('delivers 10,000 appends to runAction as a bounded number of coherent snapshots, then the final outputs once', async () => {
    const { clock, engine } = setup({ lateWrites: true });
    const reports: Report[] = [];
    const startedAt = clock.now();
    const result = await drive(clock, engine.runAction({ flow: callee, input: { total: 10_000 }, onOutput: (name, value) => reports.push({ name, value, at: clock.now() }) }));
    expect(result.status).toBe('SUCCEEDED');
    const elapsedMs = (result.durationMs || clock.now() - startedAt);
    const finals = reports.slice(-3);
    const live = reports.slice(0, -3);
    // The end is authoritative: every returned output once, non-streamable ones only there.
    expect(finals.map((r) => r.name)).toEqual(['lines', 'count', 'note']);
    expect((finals[0]!.value as unknown[]).length).toBe(10_000);
    expect(finals[2]!.value).toBe('filled 10000');
    expect(live.some((r) => r.name === 'note')).toBe(false);
    // Streamed before the end, at most one snapshot per 10 ms of run time.
    const sizes = expectCoherent(live, false);
    expect(sizes.length).toBeGreaterThan(3);
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
    expect(sizes.length).toBeLessThanOrEqual(Math.floor(elapsedMs / STREAM_INTERVAL_MS) + 2);
    const times = live.filter((r) => r.name === 'lines').map((r) => r.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(STREAM_INTERVAL_MS);
    // Writes after the callee's step ended are ignored: nothing more is reported, nothing stored.
    const reported = reports.length;
    await clock.advance(100);
    expect(reports.length).toBe(reported);
    expect((result.output as { count: number }).count).toBe(10_000);
    expect((await engine.getRun(result.requestId)).output).toEqual(result.output);
  });

  it('streams through a RUN_FLOW caller into its targets with the mapping mode, and the end is authoritative', async () => {
    const { clock, engine } = setup({ lateWrites: true });
    await engine.deployFlow(callee, { publish: true });
    const reports: Report[] = [];
    const running = engine.runAction({ flow: page('shop/page', 'catalog/fill'), requestId: 'page-1', input: { total: 5_000 }, onOutput: (name, value) => reports.push({ name, value, at: clock.now() }) });
    while (!(await engine.store.getRun('page-1'))) await clock.advance(0);
    const watched: LiveRunEvent[] = [];
    const watching = (async () => {
      for await (const event of engine.watchRun('page-1')) watched.push(event);
    })();
    const result = await drive(clock, running);
    expect(result.status).toBe('SUCCEEDED');
    await drive(clock, watching);
    // A watcher (the SSE stream) sees the snapshots as transient output events, then the final ones.
    const outputs = watched.filter((e) => e.kind === 'output');
    expect(outputs.filter((e) => e.transient).length).toBeGreaterThan(1);
    expect(outputs.slice(-3).map((e) => [e.kind === 'output' && e.name, Boolean(e.transient)])).toEqual([['lines', false], ['count', false], ['note', false]]);
    const output = result.output as { lines: Record<string, unknown>[]; count: number; note: string };
    // Merged after the page's own line; the runtime-only property is dropped.
    expect(output.lines).toHaveLength(5_001);
    expect(output.lines[0]).toEqual(BASE_LINE);
    expect(output.lines[1]).toEqual({ id: 0, name: 'line 0' });
    expect(output.count).toBe(5_000);
    expect(output.note).toBe('filled 5000');
    const live = reports.slice(0, -3);
    const sizes = expectCoherent(live, true);
    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes.every((n) => n <= 5_000)).toBe(true);
    expect(live.flatMap((r) => (r.name === 'lines' ? (r.value as Record<string, unknown>[]) : [])).some((l) => 'debug' in l)).toBe(false);
    expect(reports.slice(-3).map((r) => r.value)).toEqual([output.lines, 5_000, 'filled 5000']);
    // The caller's event stream carries the snapshots (live) and the final values (persisted).
    const persisted = (await engine.getRunEvents(result.requestId)).filter((e) => e.kind === 'output');
    expect(persisted.map((e) => (e.kind === 'output' ? e.name : ''))).toEqual(['lines', 'count', 'note']);
    await clock.advance(100);
    expect(reports.length).toBe(live.length + 3);
  });

  it('reverts every streamed change when the callee fails, so the caller that catches the error keeps what it had', async () => {
    const { clock, engine } = setup();
    await engine.deployFlow(callee, { publish: true });
    const reports: Report[] = [];
    const result = await drive(clock, engine.runAction({ flow: page('shop/failing', 'catalog/fill', ['OUT_OF_STOCK']), input: { total: 3_000, fail: true }, onOutput: (name, value) => reports.push({ name, value, at: clock.now() }) }));
    expect(result.status).toBe('SUCCEEDED');
    // Lines did stream in while the callee ran…
    expect(reports.some((r) => r.name === 'lines' && (r.value as unknown[]).length > 1)).toBe(true);
    // …and the failed call wrote nothing: the last view and the stored outputs are as before the call.
    expect(result.output).toEqual({ lines: [BASE_LINE], count: 0, note: 'empty' });
    const last = new Map(reports.map((r) => [r.name, r.value]));
    expect(last.get('lines')).toEqual([BASE_LINE]);
    expect(last.get('count')).toBe(0);
  });

  it('reverts every streamed change when the callee is canceled', async () => {
    const { clock, engine } = setup({ forever: true });
    await engine.deployFlow(callee, { publish: true });
    const reports: Report[] = [];
    const running = engine.runAction({ flow: page('shop/canceled', 'catalog/fill', ['CANCELED']), input: { total: 0 }, onOutput: (name, value) => reports.push({ name, value, at: clock.now() }) });
    await advanceUntil(clock, () => reports.some((r) => r.name === 'lines'));
    expect(reports.some((r) => r.name === 'lines' && (r.value as unknown[]).length > 1)).toBe(true);
    const child = (await engine.listRuns({ status: ['ACTIVE'] })).runs.find((r) => r.flowId === 'catalog/fill')!;
    // Snapshots are live only: the caller's stored state is as before the call while the callee streams.
    expect((await engine.getRun(child.parentRunId!)).state.outputs).toEqual({ lines: [BASE_LINE], count: 0, note: 'empty' });
    await engine.cancelRun(child.runId);
    const result = await drive(clock, running);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ lines: [BASE_LINE], count: 0, note: 'empty' });
    const last = new Map(reports.map((r) => [r.name, r.value]));
    expect(last.get('lines')).toEqual([BASE_LINE]);
    expect(last.get('count')).toBe(0);
  });

  it('reports the starting values to runAction when the whole run is canceled', async () => {
    const { clock, engine } = setup({ forever: true });
    await engine.deployFlow(callee, { publish: true });
    const reports: Report[] = [];
    const abort = new AbortController();
    const running = engine.runAction({ flow: page('shop/aborted', 'catalog/fill'), input: { total: 0 }, signal: abort.signal, onOutput: (name, value) => reports.push({ name, value, at: clock.now() }) });
    await advanceUntil(clock, () => reports.some((r) => r.name === 'lines'));
    abort.abort();
    const result = await drive(clock, running);
    expect(result.status).toBe('CANCELED');
    const last = new Map(reports.map((r) => [r.name, r.value]));
    expect(last.get('lines')).toEqual([BASE_LINE]);
    expect(last.get('count')).toBe(0);
  });

  it('chains streams through nested calls to the outermost caller', async () => {
    const { clock, engine } = setup();
    await engine.deployFlow(callee, { publish: true });
    await engine.deployFlow(page('shop/inner', 'catalog/fill'), { publish: true });
    const reports: Report[] = [];
    const outer = page('shop/outer', 'shop/inner');
    const result = await drive(clock, engine.runAction({ flow: outer, input: { total: 3_000 }, onOutput: (name, value) => reports.push({ name, value, at: clock.now() }) }));
    expect(result.status).toBe('SUCCEEDED');
    // The outer page merges the inner page's lines (its own base line twice over by id: one copy).
    expect((result.output as { lines: unknown[] }).lines).toHaveLength(3_001);
    const live = reports.slice(0, -3).filter((r) => r.name === 'lines').map((r) => (r.value as unknown[]).length);
    expect(live.some((n) => n > 1 && n < 3_001)).toBe(true);
  });
  it('streams outputs written by SET steps, one committed value at a time', async () => {
    const clock = createManualClock();
    const counter: FlowDefinition = {
      id: 'counter',
      actions: {
        main: {
          outputs: { count: { type: 'number', returned: true, streamable: true, default: 0 } },
          startAt: 'add',
          steps: {
            add: { stepType: 'SET', target: '$.outputs.count', expression: 'outputs.count + 1', defaultNextStepInstanceId: 'tick' },
            tick: { stepType: 'MODULE', moduleIdentifier: 'tick', defaultNextStepInstanceId: 'again' },
            again: { stepType: 'DECIDE', transitions: [{ condition: 'outputs.count < 50', nextStepInstanceId: 'add' }] },
          },
        },
      },
    };
    const ticking = createEngine({ stores: createStore(), clock, poll: false, modules: { tick: () => new Promise((resolve) => clock.setTimeout(() => resolve(null), 1)) } });
    await ticking.deployFlow(counter, { publish: true });
    const caller: FlowDefinition = {
      id: 'counter/caller',
      actions: {
        main: {
          outputs: { seen: { type: 'number', returned: true, streamable: true, default: -1 } },
          startAt: 'call',
          steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 'counter', returnMappings: [{ output: 'count', target: '$.outputs.seen' }] } },
        },
      },
    };
    const reports: Report[] = [];
    const started = clock.now();
    const result = await drive(clock, ticking.runAction({ flow: caller, onOutput: (name, value) => reports.push({ name, value, at: clock.now() }) }));
    expect(result.output).toEqual({ seen: 50 });
    const live = reports.slice(0, -1).map((r) => r.value as number);
    expect(live.some((n) => n > 0 && n < 50)).toBe(true);
    expect(live).toEqual([...live].sort((a, b) => a - b));
    expect(live.length).toBeLessThanOrEqual(Math.floor((clock.now() - started) / STREAM_INTERVAL_MS) + 2);
  });
});
