/**
 * The live stream of a run over Server-Sent Events, through `router.fetch`: order, ids, resume
 * after a forced disconnect, the end at the terminal status, heartbeats, and no listener left behind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type Engine, type FlowDefinition, type LiveRunEvent, type Module } from '../index.js';
import { createServerFixture, readSse, testAuthenticate, type ServerFixture, type SseEvent } from '../../test/support/server-fixture.js';

/** Lets the test release a module one step at a time. */
class Gate {
  #waiting: (() => void)[] = [];
  #credits = 0;
  pass(): Promise<void> {
    if (this.#credits > 0) {
      this.#credits--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  release(count = 1): void {
    for (let i = 0; i < count; i++) {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#credits++;
    }
  }
}

const LINES = 4;
const producerFlow: FlowDefinition = {
  id: 'demo/producer',
  actions: { main: { startAt: 'produce', steps: { produce: { stepType: 'MODULE', moduleIdentifier: 'produce', defaultNextStepInstanceId: 'end' }, end: { stepType: 'COMPUTE', expression: '"done"' } } } },
};

let gate: Gate;
let f: ServerFixture;
/** Watches the router has opened on the engine and not yet finished. */
let activeWatches: number;

function trackWatches(engine: Engine): void {
  const original = engine.watchRun.bind(engine);
  engine.watchRun = (runId, options) => {
    activeWatches++;
    const events = original(runId, options);
    return (async function* tracked(): AsyncGenerator<LiveRunEvent> {
      try {
        yield* events;
      } finally {
        activeWatches--;
      }
    })();
  };
}

beforeEach(async () => {
  gate = new Gate();
  activeWatches = 0;
  const produce: Module = async (_input, ctx) => {
    for (let i = 1; i <= LINES; i++) {
      await gate.pass();
      ctx.emitItem({ type: 'typing', content: i, transient: true }).done();
      ctx.emitItem({ type: 'line', content: `line ${i}` }).done();
      ctx.log('LINE', `line ${i}`);
    }
    return { lines: LINES };
  };
  f = await createServerFixture({ modules: { produce }, router: { heartbeatMs: 25 } });
  trackWatches(f.engine);
  await f.engine.deployFlow(producerFlow, { deployedBy: 'adam', publish: true });
});
afterEach(async () => {
  await f.close();
});

async function startProducer(): Promise<string> {
  return (await f.json('POST', '/runs', { body: { flowId: 'demo/producer' } })).body.run.runId;
}

function parsed(events: SseEvent[]): LiveRunEvent[] {
  return events.filter((e) => e.event !== 'comment').map((e) => JSON.parse(e.data) as LiveRunEvent);
}

/** Waits (on the event loop, not a timer) until `check` holds. */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
}

describe('GET /runs/{id}/stream', () => {
  it('sends every event once, in order, with id = seq and event = kind, transient items included, and ends after the terminal status', async () => {
    const runId = await startProducer();
    const response = await f.call('GET', `/runs/${runId}/stream`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    gate.release(LINES);
    const events = (await readSse(response.body!)).filter((e) => e.event !== 'comment');
    const live = parsed(events);
    expect(live.at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
    for (const [i, e] of events.entries()) {
      expect(e.event).toBe(live[i]!.kind);
      expect(e.id).toBe(String(live[i]!.seq));
    }
    const persisted = live.filter((e) => !e.transient);
    expect(persisted.map((e) => e.seq)).toEqual(persisted.map((_, i) => i + 1));
    expect(persisted.at(-1)!.seq).toBe((await f.engine.getRun(runId)).lastSeq);
    const typing = live.filter((e) => e.transient);
    expect(typing.length).toBeGreaterThanOrEqual(LINES);
    expect(typing.every((e) => e.kind === 'item' && e.item.type === 'typing')).toBe(true);
    // A transient change carries the seq of the persisted event before it: resuming from it loses nothing.
    for (const t of typing) expect(live.slice(0, live.indexOf(t)).filter((e) => !e.transient).at(-1)?.seq ?? 0).toBe(t.seq);
    await eventually(() => activeWatches === 0 && f.router.openStreams === 0);
  });

  it('resumes with Last-Event-ID after a forced disconnect: nothing lost, nothing repeated; the dropped stream leaves no watch behind', async () => {
    const runId = await startProducer();
    gate.release(1);
    const first = await readSse((await f.call('GET', `/runs/${runId}/stream`)).body!, (e) => e.event === 'log' && e.data.includes('line 1'));
    // readSse cancelled the body: the client is gone mid-run.
    await eventually(() => activeWatches === 0 && f.router.openStreams === 0);
    gate.release(2); // events the client misses while away
    const lastId = first.filter((e) => e.id !== undefined).at(-1)!.id!;
    const second = await readSse((await f.call('GET', `/runs/${runId}/stream`, { headers: { 'last-event-id': lastId } })).body!, (e) => e.event === 'log' && e.data.includes('line 3'));
    gate.release(1);
    const lastId2 = second.filter((e) => e.id !== undefined).at(-1)!.id!;
    const third = await readSse((await f.call('GET', `/runs/${runId}/stream?afterSeq=${lastId2}`)).body!);
    const persisted = parsed([...first, ...second, ...third]).filter((e) => !e.transient);
    const all = await f.engine.getRunEvents(runId);
    expect(persisted.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    expect(persisted.at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
    await eventually(() => activeWatches === 0 && f.router.openStreams === 0);
  });

  it('ends with the CANCELED status when the run is canceled, and sends heartbeat comments while idle', async () => {
    const { body } = await f.json('POST', '/runs', { body: { flowId: 'demo/hold' } });
    const response = await f.call('GET', `/runs/${body.run.runId}/stream`);
    const reading = readSse(response.body!);
    const heartbeat = await readSse((await f.call('GET', `/runs/${body.run.runId}/stream`)).body!, (e) => e.event === 'comment');
    expect(heartbeat.at(-1)!.event).toBe('comment');
    await f.json('POST', `/runs/${body.run.runId}/cancel`);
    const events = parsed(await reading);
    expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'CANCELED' });
    await eventually(() => activeWatches === 0 && f.router.openStreams === 0);
  });

  it('streams an ended run from where the client asks, then ends at once', async () => {
    const { body } = await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n: 1 }, wait: true } });
    const all = parsed(await readSse((await f.call('GET', `/runs/${body.run.runId}/stream`)).body!));
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: body.run.lastSeq }, (_, i) => i + 1));
    const tail = parsed(await readSse((await f.call('GET', `/runs/${body.run.runId}/stream`, { headers: { 'last-event-id': String(body.run.lastSeq - 1) } })).body!));
    expect(tail.map((e) => e.seq)).toEqual([body.run.lastSeq]);
  });

  it('refuses a malformed Last-Event-ID and an unknown run with JSON errors before streaming', async () => {
    const { body } = await f.json('POST', '/runs', { body: { flowId: 'demo/hold' } });
    const bad = await f.json('GET', `/runs/${body.run.runId}/stream`, { headers: { 'last-event-id': 'abc' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('header.Last-Event-ID');
    expect((await f.json('GET', '/runs/nope/stream')).body.error.code).toBe('RUN_NOT_FOUND');
    expect(activeWatches).toBe(0);
  });

  it('ends an open stream with an error event once its reader lost access to the run', async () => {
    const g = await createServerFixture({ router: { accessRecheckMs: 20 } });
    try {
      const { body } = await g.json('POST', '/runs', { as: 'olivia', body: { flowId: 'demo/hold', runMonitoringGroups: ['auditors'] } });
      const response = await g.call('GET', `/runs/${body.run.runId}/stream`, { as: 'gina' }); // a monitor through auditors
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('event: ');
      reader.releaseLock();
      await g.engine.principals.removeMember('auditors', 'gina');
      const rest = await readSse(response.body!);
      expect(rest.at(-1)).toMatchObject({ event: 'error' });
      expect(JSON.parse(rest.at(-1)!.data)).toMatchObject({ error: { code: 'RUN_NOT_FOUND' } });
      await eventually(() => g.router.openStreams === 0);
    } finally {
      await g.close();
    }
  });

  it('ends an open stream with an error event once the token it was opened with is revoked', async () => {
    const revoked = new Set<string>();
    const authenticate = async (request: Request) => {
      const who = await testAuthenticate(request);
      return who && !revoked.has(who.userId) ? who : null;
    };
    const g = await createServerFixture({ router: { accessRecheckMs: 20, authenticate } });
    try {
      const { body } = await g.json('POST', '/runs', { as: 'olivia', body: { flowId: 'demo/hold' } });
      const response = await g.call('GET', `/runs/${body.run.runId}/stream`, { as: 'olivia' });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: ');
      reader.releaseLock();
      revoked.add('olivia');
      const rest = await readSse(response.body!);
      expect(JSON.parse(rest.at(-1)!.data)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
      await eventually(() => g.router.openStreams === 0);
    } finally {
      await g.close();
    }
  });

  it("waits for a run a job starts after the stream was opened (seed 002); the router's close() ends a stream still waiting", async () => {
    const stores = createMemoryStores();
    const g = await createServerFixture({ stores, engine: createEngine({ stores, modules: { produce: async () => ({ lines: 0 }) }, pollIntervalMs: 50, runtimeConfig: { budgets: { maxWatchWaitMs: 60_000 } } }) });
    try {
      await g.engine.deployFlow(producerFlow, { deployedBy: 'adam', publish: true });
      const streaming = g.call('GET', '/runs/job-run-1/stream', { as: 'adam' });
      const waiting = g.call('GET', '/runs/never-started/stream', { as: 'adam' });
      await new Promise((r) => setImmediate(r));
      void g.engine.runAction({ flow: 'demo/producer', requestId: 'job-run-1', userId: 'olivia', source: 'manual' });
      const response = await streaming;
      expect(response.status).toBe(200);
      const events = parsed(await readSse(response.body!));
      expect(events[0]).toMatchObject({ kind: 'status', status: 'ACTIVE', seq: 1 });
      expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
      g.router.close();
      const refused = await waiting;
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE');
    } finally {
      await g.close();
    }
  });

  it("ends every open stream on the router's close()", async () => {
    const { body } = await f.json('POST', '/runs', { body: { flowId: 'demo/hold' } });
    const streams = await Promise.all([1, 2, 3].map(() => f.call('GET', `/runs/${body.run.runId}/stream`)));
    await eventually(() => f.router.openStreams === 3);
    const reading = streams.map((s) => readSse(s.body!));
    f.router.close();
    await Promise.all(reading);
    await eventually(() => activeWatches === 0 && f.router.openStreams === 0);
    const late = await f.json('GET', `/runs/${body.run.runId}/stream`);
    expect(late.status).toBe(503);
    expect(late.body.error.code).toBe('UNAVAILABLE');
  });
});
