/**
 * Hostile users and hostile flows against a real `flowrun serve` process, over HTTP only, as a
 * stranger with a token would try it (issue 12): what they send is refused with a clear code and
 * changes nothing, what they deploy fails its own runs and never the server, and nothing they do
 * reaches another user's runs. SQLite always; the event and budget cases on PostgreSQL too.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOUBLING_FLOW, FORK_FLOW, OUTPUT_LOOP_FLOW } from '../support/hostile-flows.js';
import { freshPgSchema, pgUrl } from '../support/pg-schema.js';
import { freshSqliteSpec, issueToken, startServeProcess, type ServeProcess } from '../support/serve-process.js';

const ECHO = { id: 'alice/echo', actions: { main: { params: { v: { type: 'any' } }, startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '{v: input.v}' } } } } };
const PRIVATE = { id: 'alice/private', roles: { viewers: ['alice'], starters: ['alice'] }, actions: { main: { startAt: 'a', steps: { a: { stepType: 'SUCCEED' } } } } };

/** JSON text of `{"a": … 1 …}` nested `levels` deep (built as text: JSON.stringify recurses). */
function nestedJson(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

describe('flowrun serve under hostile users (SQLite)', () => {
  let serve: ServeProcess;
  let alice: string;
  let mallory: string;

  beforeAll(async () => {
    const store = freshSqliteSpec();
    serve = await startServeProcess({ store, umask: '000', timeoutMs: 60_000 });
    [alice, mallory] = [await issueToken(store, 'alice'), await issueToken(store, 'mallory')];
    for (const flow of [ECHO, PRIVATE]) expect((await serve.json('POST', '/flows', { token: alice, body: { definition: flow, publish: true } })).status).toBe(201);
  }, 90_000);
  afterAll(async () => {
    await serve?.stop();
  });

  it('refuses an input nested past the limit with 400 naming the path, and records no run', async () => {
    const deep = await serve.json('POST', '/runs', { token: mallory, body: `{"flowId":"alice/echo","input":{"v":${nestedJson(4_150)}}}` });
    expect(deep.status).toBe(400);
    expect(deep.body.error.code).toBe('INVALID_INPUT');
    expect(JSON.stringify(deep.body.error.details)).toContain('input.v');
    const runs = await serve.json('GET', '/runs?flowId=alice/echo', { token: mallory });
    expect(runs.body.runs).toEqual([]);
    expect((await serve.request('GET', '/health', { token: null })).status).toBe(200);
  });

  it('answers a start of a flow the caller may not see exactly like a missing flow', async () => {
    const hidden = await serve.json('POST', '/runs', { token: mallory, body: { flowId: 'alice/private' } });
    const missing = await serve.json('POST', '/runs', { token: mallory, body: { flowId: 'alice/nothing' } });
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(hidden.body.error.code).toBe(missing.body.error.code);
    expect(hidden.body.error.message.replace('alice/private', 'X')).toBe(missing.body.error.message.replace('alice/nothing', 'X'));
    expect((await serve.json('POST', '/runs', { token: alice, body: { flowId: 'alice/private', wait: true } })).body.run.status).toBe('SUCCEEDED');
  });

  it('lets nobody squat an idempotency key: the old public derivation of its run id takes nothing from its owner', async () => {
    // The run id an idempotency key mapped to before: sha256 of the user and the key, computable by anyone.
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('flowrun-idempotency\nalice\norder-42')));
    const bytes = digest.slice(0, 16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x80;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    const predicted = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    expect((await serve.json('POST', '/runs', { token: mallory, body: { flowId: 'alice/echo', requestId: predicted, input: { v: 'mallory' } } })).status).toBe(201);

    const first = await serve.json('POST', '/runs', { token: alice, body: { flowId: 'alice/echo', idempotencyKey: 'order-42', input: { v: 'alice' }, wait: true } });
    expect(first.body.run).toMatchObject({ createdBy: 'alice', status: 'SUCCEEDED', output: { v: 'alice' } });
    expect(first.body.run.runId).not.toBe(predicted);
    const again = await serve.json('POST', '/runs', { token: alice, body: { flowId: 'alice/echo', idempotencyKey: 'order-42', input: { v: 'alice' } } });
    expect(again.body.run.runId).toBe(first.body.run.runId);
    // The same key of another principal is another run: keys are scoped to whoever gives them.
    const mallorys = await serve.json('POST', '/runs', { token: mallory, body: { flowId: 'alice/echo', idempotencyKey: 'order-42', input: { v: 'm' } } });
    expect(mallorys.body.run.runId).not.toBe(first.body.run.runId);
  });

  it('answers a taken requestId with the same 409 whoever owns the run, revealing nothing of it', async () => {
    const own = await serve.json('POST', '/runs', { token: alice, body: { flowId: 'alice/private', requestId: 'alice-secret-run' } });
    expect(own.status).toBe(201);
    const probe = await serve.json('POST', '/runs', { token: mallory, body: { flowId: 'alice/echo', requestId: 'alice-secret-run' } });
    const mine = await serve.json('POST', '/runs', { token: alice, body: { flowId: 'alice/echo', requestId: 'alice-secret-run' } });
    expect(probe.status).toBe(409);
    expect(probe.body).toEqual(mine.body);
    expect(JSON.stringify(probe.body)).not.toContain('alice/private');
  });

  it('keeps /metrics for administrators and answers /ready without a token', async () => {
    expect((await serve.request('GET', '/metrics', { token: mallory })).status).toBe(403);
    expect((await serve.request('GET', '/metrics')).status).toBe(200);
    expect((await serve.request('GET', '/ready', { token: null })).status).toBe(200);
  });

  it('keeps the store folder to its owner (0700) and its files 0600 under a umask of 000', () => {
    const db = serve.store.slice('sqlite:'.length);
    expect(statSync(db).mode & 0o777).toBe(0o600);
    expect(statSync(`${db}-wal`).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(db)).mode & 0o077).toBe(0);
  });
});

describe('flowrun serve restarts (SQLite)', () => {
  it('mints an admin token only on a store that has none, and a restart says how to get one', async () => {
    const store = freshSqliteSpec();
    const first = await startServeProcess({ store, timeoutMs: 60_000 });
    await first.stop();
    expect(first.adminToken).toMatch(/^frt_/);
    const second = await startServeProcess({ store, timeoutMs: 60_000 });
    await second.stop();
    expect(second.adminToken).toBeNull();
    expect(second.output()).toContain('flowrun tokens create --user admin');
    const stillValid = await startServeProcess({ store, args: ['--no-admin-token'], timeoutMs: 60_000 });
    try {
      expect((await stillValid.request('GET', '/runs', { token: first.adminToken })).status).toBe(200);
    } finally {
      await stillValid.stop();
    }
  }, 120_000);
});

const THREE_STEPS = {
  id: 'alice/three',
  actions: { main: { startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '1', defaultNextStepInstanceId: 'b' }, b: { stepType: 'COMPUTE', expression: 'steps.a + 1', defaultNextStepInstanceId: 'c' }, c: { stepType: 'COMPUTE', expression: '{n: steps.b + 1}' } } } },
};

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every run of a flow the token may see, all pages. */
async function runsOf(serve: ServeProcess, token: string, flowId: string): Promise<{ runId: string; status: string; runError: { code: string; details?: Record<string, unknown> } | null }[]> {
  const runs = [];
  let marker: string | undefined;
  do {
    const page = await serve.json('GET', `/runs?flowId=${encodeURIComponent(flowId)}&limit=1000${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`, { token });
    runs.push(...page.body.runs);
    marker = page.body.marker ?? undefined;
  } while (marker);
  return runs;
}

/** How many events the run has stored. */
async function storedEvents(serve: ServeProcess, token: string, runId: string): Promise<number> {
  let count = 0;
  let afterSeq = 0;
  for (;;) {
    const page = await serve.json('GET', `/runs/${runId}/events?afterSeq=${afterSeq}&limit=1000`, { token });
    const events = page.body.events as { seq: number }[];
    if (events.length === 0) return count;
    count += events.length;
    afterSeq = events.at(-1)!.seq;
  }
}

const stores = [
  { name: 'SQLite', store: () => ({ spec: freshSqliteSpec(), drop: async () => undefined }) },
  ...(pgUrl ? [{ name: 'PostgreSQL', store: () => freshPgSchema('hostile') }] : []),
];

describe.each(stores)('hostile flows against flowrun serve ($name)', ({ store }) => {
  it('a doubling value, a fork bomb and an output loop fail their own runs inside the budgets, while another user is served and a restart opens the port', async () => {
    const { spec, drop } = store();
    const args = ['--budget', 'maxRunsPerTree=200'];
    let serve = await startServeProcess({ store: spec, args, timeoutMs: 60_000 });
    try {
      const [alice, mallory] = [await issueToken(spec, 'alice'), await issueToken(spec, 'mallory')];
      expect((await serve.json('POST', '/flows', { token: alice, body: { definition: THREE_STEPS, publish: true } })).status).toBe(201);
      const attacks: Record<string, string> = {};
      for (const [flow, input] of [[DOUBLING_FLOW, { k: 28 }], [FORK_FLOW, {}], [OUTPUT_LOOP_FLOW, {}]] as const) {
        expect((await serve.json('POST', '/flows', { token: mallory, body: { definition: flow, publish: true } })).status).toBe(201);
        const started = await serve.json('POST', '/runs', { token: mallory, body: { flowId: flow.id, input } });
        expect(started.status).toBe(201);
        attacks[flow.id] = started.body.run.runId;
      }

      // Meanwhile, another user's runs finish and the server answers.
      for (let i = 0; i < 5; i++) {
        const run = await serve.json('POST', '/runs', { token: alice, body: { flowId: 'alice/three', wait: true } });
        expect(run.body.run).toMatchObject({ status: 'SUCCEEDED', output: { n: 3 } });
        expect((await serve.request('GET', '/health', { token: null })).status).toBe(200);
      }

      // Item 1: the doubling value fails its run with the value budget.
      const dag = await until(() => serve.json('GET', `/runs/${attacks['m/dag']}`, { token: mallory }), (r) => r.body.run.status === 'FAILED', 'the doubling run to fail');
      expect(dag.body.run.runError).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxValueBytes' } });

      // Item 2: the fork bomb stops at the tree budget; the launches past it fail with LIMIT_EXCEEDED.
      const forks = await until(() => runsOf(serve, mallory, 'm/fork'), (runs) => runs.length === 200 && runs.every((r) => r.status !== 'ACTIVE'), '200 settled fork runs');
      expect(forks.some((r) => r.runError?.code === 'LIMIT_EXCEEDED' && r.runError.details?.limit === 'maxRunsPerTree')).toBe(true);

      // Item 7: the output loop's stored events stay within the history cap (10,000) however long it loops.
      const loop = attacks['m/outloop']!;
      await until(() => serve.json('GET', `/runs/${loop}/events?afterSeq=10000&limit=1`, { token: mallory }), (r) => r.body.events.length > 0, 'the output loop to reach the history cap');
      const atCap = await storedEvents(serve, mallory, loop);
      await new Promise((r) => setTimeout(r, 1_000));
      const later = await storedEvents(serve, mallory, loop);
      expect(later).toBeLessThanOrEqual(10_100);
      expect(later - atCap).toBeLessThan(50);
      expect((await serve.json('GET', `/runs/${loop}`, { token: mallory })).body.run.status).toBe('ACTIVE');

      // Cancelling its tree stops it; the server stayed small throughout.
      expect((await serve.json('POST', `/runs/${loop}/cancel`, { token: mallory, body: { tree: true } })).body.run.status).toBe('CANCELED');
      expect(serve.memoryMb()!.peak).toBeLessThan(512);

      // A restart (after SIGKILL) opens its port and starts no fork past the budget.
      await serve.kill();
      serve = await startServeProcess({ store: spec, args, timeoutMs: 60_000 });
      const run = await serve.json('POST', '/runs', { token: alice, body: { flowId: 'alice/three', wait: true } });
      expect(run.body.run.status).toBe('SUCCEEDED');
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await runsOf(serve, mallory, 'm/fork')).length).toBe(200);
    } finally {
      await serve.kill();
      await drop();
    }
  }, 180_000);
});
