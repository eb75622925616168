/**
 * The durable peers that keep their journal in a server as {@link PeerEngine}s: DBOS Transact on
 * PostgreSQL (a re-created database `flowrun_bench_peers_dbos`) and Restate (a private server
 * started for the measurement, see restate-server.ts). A step is `DBOS.runStep` / `ctx.run`; the
 * parent's child is a child workflow the parent waits for (DBOS) or a service call (Restate).
 *
 * Both SDKs come from bench/node_modules and are imported by computed names (see
 * peer-engine-js.ts); the interfaces below are the part of their APIs this file calls.
 */
import { PgAdmin } from './pg-admin.js';
import { freePort, startRestateServer } from './restate-server.js';
import { PeerSkipped, checkResult, step, type PeerEngine, type PeerEngineOptions, type Payload, type StepResult } from './peer-workloads.js';

/** The part of DBOS's API this file calls. */
interface Dbos {
  setConfig(config: { name: string; systemDatabaseUrl: string; logLevel?: string }): void;
  registerWorkflow<A extends unknown[], R>(fn: (...args: A) => Promise<R>, options: { name: string }): (...args: A) => Promise<R>;
  runStep<R>(fn: () => Promise<R>, options: { name: string }): Promise<R>;
  startWorkflow<A extends unknown[], R>(workflow: (...args: A) => Promise<R>): (...args: A) => Promise<{ getResult(): Promise<R> }>;
  launch(): Promise<void>;
  shutdown(): Promise<void>;
}

/** DBOS Transact on a fresh PostgreSQL database; `serverWalBytes` reads the server's WAL position. */
export async function dbosPeer(options: PeerEngineOptions): Promise<PeerEngine & { durability: string; serverWalBytes: () => Promise<number> }> {
  const sdk: string = '@dbos-inc/dbos-sdk';
  const { DBOS } = (await import(sdk).catch((error: unknown) => {
    throw new PeerSkipped(`DBOS Transact is not installed (npm ci --prefix bench): ${error instanceof Error ? error.message : String(error)}`);
  })) as { DBOS: Dbos };
  const admin = await PgAdmin.freshDatabase('flowrun_bench_peers_dbos');
  DBOS.setConfig({ name: 'flowrun-peers', systemDatabaseUrl: admin.url, logLevel: 'warn' });
  const child = DBOS.registerWorkflow(
    async (x: StepResult) => {
      const a = await DBOS.runStep(async () => step(x), { name: 'c1' });
      const b = await DBOS.runStep(async () => step(a), { name: 'c2' });
      return DBOS.runStep(async () => step(b), { name: 'c3' });
    },
    { name: 'child' },
  );
  const parent = DBOS.registerWorkflow(
    async (i: number) => {
      const a = await DBOS.runStep(async () => step({ s: 0, i }), { name: 'p1' });
      const c = await (await DBOS.startWorkflow(child)(a)).getResult();
      return DBOS.runStep(async () => step(c), { name: 'p2' });
    },
    { name: 'parent' },
  );
  const steps = DBOS.registerWorkflow(
    // The payload is the workflow's argument: DBOS stores it with the workflow, once.
    async (i: number, payload: Payload | null) => {
      void payload;
      let x: StepResult = { s: 0, i };
      for (let k = 0; k < options.stepsPerRun; k++) {
        const prev = x;
        x = await DBOS.runStep(async () => step(prev), { name: `s${k}` });
      }
      return x;
    },
    { name: 'steps' },
  );
  await DBOS.launch();
  const { settings } = await admin.describe();
  const peer = {
    durability: `PostgreSQL, synchronous_commit=${settings.synchronous_commit}, fsync=${settings.fsync}`,
    parent: async (i: number) => (await DBOS.startWorkflow(parent)(i)).getResult(),
    steps: async (i: number, payload: Payload | null) => (await DBOS.startWorkflow(steps)(i, payload)).getResult(),
    close: async () => {
      await DBOS.shutdown();
      await admin.close();
    },
    serverWalBytes: async () => Number((await admin.query<{ b: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS b`)).rows[0]!.b),
  };
  checkResult('dbos', await peer.parent(7), 5, 7);
  return peer;
}

/** The part of Restate's SDK this file calls (handlers receive a context and one JSON argument). */
interface RestateContext {
  run<R>(name: string, action: () => Promise<R>): Promise<R>;
  serviceClient(definition: { name: string }): Record<string, (argument: unknown) => Promise<unknown>>;
}
interface RestateSdk {
  service(definition: { name: string; handlers: Record<string, (ctx: RestateContext, argument: never) => Promise<unknown>> }): { name: string };
  serve(options: { services: { name: string }[]; port: number }): Promise<number>;
}
interface RestateIngress {
  serviceClient(definition: { name: string }): Record<string, (argument: unknown) => Promise<unknown>>;
}

/**
 * Restate: a private server (its defaults: the log fsync'd before an entry counts, see the
 * bench README), this process serving the handlers over HTTP/2, invocations through the ingress
 * client (@restatedev/restate-sdk-clients), one call per parent or run, waiting for its result.
 */
export async function restatePeer(options: PeerEngineOptions): Promise<PeerEngine & { durability: string }> {
  // SDK 1.17 calls Promise.withResolvers (ES2024, Node ≥ 22); on Node 20 the standard polyfill.
  const P = Promise as unknown as { withResolvers?: () => unknown };
  P.withResolvers ??= function <T>(this: PromiseConstructor) {
    let resolve!: (value: T) => void;
    let reject!: (reason: unknown) => void;
    const promise = new this<T>((a, b) => ((resolve = a), (reject = b)));
    return { promise, resolve, reject };
  };
  process.env.RESTATE_LOGGING ??= 'WARN'; // the SDK logs two INFO lines per invocation by default
  const sdkName: string = '@restatedev/restate-sdk';
  const clientsName: string = '@restatedev/restate-sdk-clients';
  let restate: RestateSdk;
  let clients: { connect(options: { url: string }): RestateIngress };
  try {
    restate = (await import(sdkName)) as RestateSdk;
    clients = (await import(clientsName)) as typeof clients;
  } catch (error) {
    throw new PeerSkipped(`the Restate SDK is not installed (npm ci --prefix bench): ${error instanceof Error ? error.message : String(error)}`);
  }
  const server = await startRestateServer(options.workDir);
  try {
    const child = restate.service({
      name: 'child',
      handlers: {
        run: async (ctx, x: StepResult) => {
          const a = await ctx.run('c1', async () => step(x));
          const b = await ctx.run('c2', async () => step(a));
          return ctx.run('c3', async () => step(b));
        },
      },
    });
    const parent = restate.service({
      name: 'parent',
      handlers: {
        run: async (ctx, i: number) => {
          const a = await ctx.run('p1', async () => step({ s: 0, i }));
          const c = (await ctx.serviceClient({ name: 'child' }).run!(a)) as StepResult;
          return ctx.run('p2', async () => step(c));
        },
      },
    });
    const steps = restate.service({
      name: 'steps',
      handlers: {
        // The payload is the invocation's argument: Restate journals it with the invocation, once.
        run: async (ctx, input: { i: number; payload: Payload | null }) => {
          let x: StepResult = { s: 0, i: input.i };
          for (let k = 0; k < options.stepsPerRun; k++) {
            const prev = x;
            x = await ctx.run(`s${k}`, async () => step(prev));
          }
          return x;
        },
      },
    });
    const port = await freePort();
    await restate.serve({ services: [child, parent, steps], port });
    const registered = await fetch(`${server.adminUrl}/deployments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: `http://127.0.0.1:${port}`, force: true }) });
    if (!registered.ok) throw new Error(`Restate deployment refused: ${registered.status} ${await registered.text()}`);
    const ingress = clients.connect({ url: server.ingressUrl });
    const peer = {
      durability: `Restate server ${server.version}, defaults (single node; log on RocksDB with its WAL fsync'd)`,
      parent: async (i: number) => (await ingress.serviceClient({ name: 'parent' }).run!(i)) as StepResult,
      steps: async (i: number, payload: Payload | null) => (await ingress.serviceClient({ name: 'steps' }).run!({ i, payload })) as StepResult,
      close: () => server.stop(),
    };
    // The deployment reaches the ingress shortly after it is registered: the first call retries.
    for (let attempt = 1; ; attempt++) {
      try {
        checkResult('restate', await peer.parent(7), 5, 7);
        break;
      } catch (error) {
        if (attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    return peer;
  } catch (error) {
    await server.stop();
    throw error;
  }
}
