/**
 * The Globus Flows handler on a real port over memory stores, with the real `@globus/sdk`
 * pointed at it the way a Globus user points it at a Flows service: `GLOBUS_SDK_SERVICE_URL_FLOWS`
 * names the base URL and `GLOBUS_SDK_OPTIONS` carries alice's flowrun token in every request;
 * `as(user)` gives the SDK options that act as another principal instead.
 */
import { createEngine, createMemoryStores, type Engine, type FlowDefinition, type Store } from '../../src/index.js';
import { createGlobusFlowsHandler, hashApiToken, newApiToken, serve, type RunningServer } from '../../src/server/index.js';
import { hold } from './server-fixture.js';

/** Echoes `n`, in three steps (so its log has a few entries). */
export const echoFlow: FlowDefinition = {
  id: 'demo/echo',
  title: 'Echo service',
  description: 'answers with its input',
  actions: {
    main: {
      params: { n: { type: 'number', required: true } },
      startAt: 'a',
      steps: { a: { stepType: 'COMPUTE', expression: '{n: input.n}', defaultNextStepInstanceId: 'b' }, b: { stepType: 'COMPUTE', expression: '{n: input.n}', defaultNextStepInstanceId: 'c' }, c: { stepType: 'COMPUTE', expression: '{n: input.n}' } },
    },
  },
};
/** Waits until canceled. */
export const holdFlow: FlowDefinition = { id: 'demo/hold', title: 'Hold', actions: { main: { startAt: 'wait', steps: { wait: { stepType: 'MODULE', moduleIdentifier: 'hold' } } } } };
/** Fails at once. */
export const failFlow: FlowDefinition = { id: 'demo/fail', title: 'Fail', actions: { main: { startAt: 'no', steps: { no: { stepType: 'FAIL', code: 'NOPE', description: 'always fails' } } } } };
/** Only alice may see or start it. */
export const privateFlow: FlowDefinition = { id: 'alice/private', title: 'Private', roles: { starters: ['alice'] }, actions: { main: { startAt: 'x', steps: { x: { stepType: 'SUCCEED' } } } } };

/** SDK options acting with a token (the third argument of every `@globus/sdk` service method). */
export type SdkOptions = { fetch: { options: { headers: Record<string, string> } } };

export interface GlobusFixture {
  engine: Engine;
  stores: Store;
  server: RunningServer;
  tokens: Record<string, string>;
  /** SDK options acting as `user` (alice acts through the environment). */
  as(user: string): SdkOptions;
  close(): Promise<void>;
}

/** Users alice, bob and carol (carol in group `auditors`), each with a flowrun token; the flows above, deployed by alice. */
export async function startGlobusFixture(): Promise<GlobusFixture> {
  const stores = createMemoryStores();
  const engine = createEngine({ stores, modules: { hold }, pollIntervalMs: 20 });
  const tokens: Record<string, string> = {};
  for (const id of ['alice', 'bob', 'carol']) {
    await engine.principals.createUser({ id, displayName: `${id[0]!.toUpperCase()}${id.slice(1)}` });
    tokens[id] = newApiToken();
    await stores.principals.createToken({ tokenId: `tok-${id}`, principalId: id, tokenHash: await hashApiToken(tokens[id]!), at: Date.now() });
  }
  await engine.principals.createGroup({ id: 'auditors' });
  await engine.principals.addMember('auditors', 'carol');
  for (const flow of [echoFlow, holdFlow, failFlow, privateFlow]) await engine.deployFlow(flow, { deployedBy: 'alice', publish: true });
  const server = await serve({ router: createGlobusFlowsHandler({ engine }) });
  const saved = { url: process.env.GLOBUS_SDK_SERVICE_URL_FLOWS, options: process.env.GLOBUS_SDK_OPTIONS };
  process.env.GLOBUS_SDK_SERVICE_URL_FLOWS = server.url;
  process.env.GLOBUS_SDK_OPTIONS = JSON.stringify({ fetch: { options: { headers: { Authorization: `Bearer ${tokens.alice}` } } } });
  return {
    engine,
    stores,
    server,
    tokens,
    as: (user) => ({ fetch: { options: { headers: { Authorization: `Bearer ${tokens[user]}` } } } }),
    close: async () => {
      for (const [key, value] of [['GLOBUS_SDK_SERVICE_URL_FLOWS', saved.url], ['GLOBUS_SDK_OPTIONS', saved.options]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await server.close();
      await engine.close();
    },
  };
}

/** The status and JSON body of an SDK answer. */
export async function read<T = any>(response: Response | Promise<Response>): Promise<{ status: number; body: T }> {
  const r = await response;
  return { status: r.status, body: (await r.json()) as T };
}
