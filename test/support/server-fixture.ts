/**
 * Helpers of the server tests: an engine over memory stores with a few flows and principals, a
 * test authenticator (`Authorization: Bearer as:<principal>`), request builders, and a reader of
 * Server-Sent Events from a Response body.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, createFilesystemStores, createMemoryStores, type Engine, type FlowDefinition, type Module, type SqliteStore, type Store } from '../../src/index.js';
import { createFlowApiRouter, type FlowApiRouter, type FlowApiRouterOptions } from '../../src/server/index.js';

/** Ends when the run is canceled. */
export const hold: Module = (_input, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null), { once: true }));

/** A flow anyone may start: echoes its input. */
export const echoFlow: FlowDefinition = {
  id: 'demo/echo',
  actions: { main: { params: { n: { type: 'number' } }, startAt: 'echo', steps: { echo: { stepType: 'COMPUTE', expression: '{n: input.n}' } } } },
};

/** A flow with roles, whose runs wait until canceled. */
export const securedFlow: FlowDefinition = {
  id: 'secure/report',
  roles: { administrators: ['adam'], starters: ['olivia', 'ops'] },
  actions: { main: { startAt: 'wait', steps: { wait: { stepType: 'MODULE', moduleIdentifier: 'hold' } } } },
};

/** A flow anyone may start whose runs wait until canceled. */
export const holdFlow: FlowDefinition = {
  id: 'demo/hold',
  actions: { main: { startAt: 'wait', steps: { wait: { stepType: 'MODULE', moduleIdentifier: 'hold' } } } },
};

/** Authenticates `Bearer as:<id>`; anything else is nobody. */
export async function testAuthenticate(request: Request): Promise<{ userId: string } | null> {
  const match = /^Bearer as:(.+)$/.exec(request.headers.get('authorization') ?? '');
  return match ? { userId: match[1]! } : null;
}

export interface ServerFixture {
  engine: Engine;
  stores: Store;
  router: FlowApiRouter;
  /** `router.fetch` of a request acting as `as` (default olivia); `body` is sent as JSON, its length declared. */
  call(method: string, path: string, options?: { as?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /** The same, reading the JSON answer. */
  json<T = any>(method: string, path: string, options?: { as?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** A fresh engine over memory stores with the flows above deployed and the principals of the permission matrix. */
export async function createServerFixture(options: { modules?: Record<string, Module>; router?: Omit<FlowApiRouterOptions, 'engine'>; stores?: Store; engine?: Engine } = {}): Promise<ServerFixture> {
  const stores = options.stores ?? createMemoryStores();
  // A stream of a run that is not there answers after 50 ms here, not the default 5 s (maxWatchWaitMs).
  const engine = options.engine ?? createEngine({ stores, modules: { hold, ...options.modules }, pollIntervalMs: 50, runtimeConfig: { budgets: { maxWatchWaitMs: 50 } } });
  const p = engine.principals;
  for (const id of ['olivia', 'mona', 'manny', 'otto', 'gina', 'adam']) await p.createUser({ id });
  for (const id of ['auditors', 'ops']) await p.createGroup({ id });
  await p.addMember('auditors', 'gina');
  await p.addMember('ops', 'gina');
  await engine.deployFlow(echoFlow, { deployedBy: 'adam', publish: true });
  await engine.deployFlow(securedFlow, { deployedBy: 'adam', publish: true });
  await engine.deployFlow(holdFlow, { deployedBy: 'adam', publish: true });
  const router = createFlowApiRouter({ engine, authenticate: testAuthenticate, ...options.router });
  const call: ServerFixture['call'] = (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const as = o.as === undefined ? 'olivia' : o.as;
    if (as !== null) headers.authorization = `Bearer as:${as}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
      // Declared, as a Node server hands a body over: `POST /runs` then takes the path serve() takes (direct-start.ts).
      headers['content-length'] ??= String(Buffer.byteLength(body));
    }
    return router.fetch(new Request(`http://flowrun.test${path}`, { method, headers, ...(body !== undefined ? { body } : {}) }));
  };
  return {
    engine,
    stores,
    router,
    call,
    json: async (method, path, o) => {
      const response = await call(method, path, o);
      return { status: response.status, body: await response.json() };
    },
    close: async () => {
      router.close();
      for (const run of (await engine.listRuns({ status: 'ACTIVE', limit: 1000 })).runs) await engine.cancelRun(run.runId).catch(() => undefined);
      await engine.close();
    },
  };
}

/** One Server-Sent Event. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Reads SSE events (and comment lines, as `{event: 'comment'}`) from a response body until it ends or `until` says stop. */
export async function readSse(body: ReadableStream<Uint8Array>, until: (event: SseEvent, all: SseEvent[]) => boolean = () => false): Promise<SseEvent[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return events;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) event.event ??= 'comment';
          else if (line.startsWith('data: ')) data.push(line.slice(6));
          else if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('event: ')) event.event = line.slice(7);
        }
        event.data = data.join('\n');
        events.push(event);
        if (until(event, events)) return events;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** A server fixture over a SQLite folder, with a second store on the same file standing for another process. */
export interface SharedFileFixture {
  stores: SqliteStore;
  otherProcess: SqliteStore;
  f: ServerFixture;
  close(): Promise<void>;
}

/** Opens a {@link SharedFileFixture} in a new temporary folder named after `prefix` (synchronous=NORMAL). */
export async function openSharedFileFixture(prefix: string): Promise<SharedFileFixture> {
  const rootDir = mkdtempSync(join(tmpdir(), prefix));
  const stores = createFilesystemStores({ rootDir, synchronous: 'NORMAL' });
  const otherProcess = createFilesystemStores({ rootDir, synchronous: 'NORMAL' });
  const f = await createServerFixture({ stores });
  return {
    stores,
    otherProcess,
    f,
    async close() {
      await f.close();
      await otherProcess.close();
      await stores.close();
    },
  };
}
