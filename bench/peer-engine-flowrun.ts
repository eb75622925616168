/**
 * flowrun as a {@link PeerEngine}, from this checkout's src/ (through tsx), so a checkout measures
 * itself: memory, SQLite (synchronous FULL or NORMAL) or PostgreSQL. Each step is a MODULE step
 * calling {@link step} — user code whose output the engine records before the next step.
 *
 * The parent calls its child as a child run (RUN_FLOW flowDefinitionId, the counterpart of a DBOS
 * child workflow or a Restate service call) or, with `call: 'subflow'`, as a subflow in the same
 * run (the counterpart of a Mastra nested workflow or a LangGraph subgraph). A subflow reads the
 * run's input, not p1's output, so that parent ends at s = 4: the same steps and calls, one less
 * addition ({@link PeerEngine.parentS}).
 */
import { createEngine, createFilesystemStores, createMemoryStores, createPostgresStores, type FlowDefinition, type StepDefinition, type Store } from '../src/index.js';
import { PgAdmin } from './pg-admin.js';
import { checkResult, step, type PeerEngine, type PeerEngineOptions, type StepResult } from './peer-workloads.js';

/** Where flowrun keeps its runs in a measurement. */
export type FlowrunStoreKind = 'memory' | 'sqlite-full' | 'sqlite-normal' | 'pg';

/**
 * A flowrun engine for the workloads; with `pg`, on a re-created database `flowrun_bench_peers_flowrun`
 * (or FLOWRUN_BENCH_PEERS_DB, so two measurements at once never share one).
 */
export async function flowrunPeer(options: PeerEngineOptions & { store: FlowrunStoreKind; call?: 'child-run' | 'subflow'; frozenInput?: boolean }): Promise<PeerEngine & { durability: string; serverWalBytes?: () => Promise<number>; commitCounts?: () => { commits: number; offLoopSyncs: number } | null }> {
  let admin: PgAdmin | null = null;
  let stores: Store;
  let durability: string;
  if (options.store === 'memory') {
    stores = createMemoryStores();
    durability = 'none (memory store)';
  } else if (options.store === 'pg') {
    admin = await PgAdmin.freshDatabase(process.env.FLOWRUN_BENCH_PEERS_DB ?? 'flowrun_bench_peers_flowrun');
    stores = createPostgresStores({ connectionString: admin.url, schema: 'flowrun' });
    const { settings } = await admin.describe();
    durability = `PostgreSQL, synchronous_commit=${settings.synchronous_commit}, fsync=${settings.fsync}`;
  } else {
    const synchronous = options.store === 'sqlite-full' ? 'FULL' : 'NORMAL';
    stores = createFilesystemStores({ rootDir: options.workDir, synchronous });
    durability = `SQLite WAL, synchronous=${synchronous}${synchronous === 'FULL' ? ' (fsync per group commit)' : ' (no fsync per commit)'}`;
  }
  const engine = createEngine({ stores, modules: { 'peers/step': (input) => step(input as unknown as StepResult) } });
  for (const flow of peerFlows(options.stepsPerRun, options.call ?? 'child-run')) await engine.deployFlow(flow, { publish: true });
  const run = async (flow: string, input: Record<string, unknown>): Promise<StepResult> => {
    const result = await engine.runAction({ flow, input });
    if (result.status !== 'SUCCEEDED') throw new Error(`flowrun run ${result.requestId} ended ${result.status}: ${result.error?.message}`);
    return result.output as unknown as StepResult;
  };
  const parentS = options.call === 'subflow' ? 4 : 5;
  const peer: PeerEngine & { durability: string; serverWalBytes?: () => Promise<number>; commitCounts?: () => { commits: number; offLoopSyncs: number } | null } = {
    durability,
    commitCounts: () => {
      const s = (stores as { stats?: { commits?: number; offLoopSyncs?: number } }).stats;
      return typeof s?.commits === 'number' && typeof s.offLoopSyncs === 'number' ? { commits: s.commits, offLoopSyncs: s.offLoopSyncs } : null;
    },
    parentS,
    parent: (i) => run('peers/parent', { s: 0, i }),
    steps: (i, payload) => run('peers/steps', payload ? { s: 0, i, payload: options.frozenInput ? deepFrozen(payload) : payload } : { s: 0, i }),
    close: async () => {
      await engine.close();
      await stores.close();
      await admin?.close();
    },
  };
  if (admin) {
    const a = admin;
    peer.serverWalBytes = async () => Number((await a.query<{ b: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS b`)).rows[0]!.b);
  }
  checkResult('flowrun', await peer.parent(7), parentS, 7);
  return peer;
}

const frozen = new WeakMap<object, object>();

/**
 * A deep-frozen copy of `value`, made once per value: the caller that hands the engine data it
 * froze (`frozenInput`), which the engine shares instead of copying (src/core/seal-json.ts).
 */
function deepFrozen<T extends object>(value: T): T {
  let copy = frozen.get(value);
  if (!copy) {
    const freeze = (v: unknown): unknown => {
      if (typeof v === 'object' && v !== null) for (const part of Object.values(v)) freeze(part);
      return Object.freeze(v);
    };
    copy = freeze(structuredClone(value)) as object;
    frozen.set(value, copy);
  }
  return copy as T;
}

/** A MODULE step reading `{s, i}` at `from`, then going to `next`. */
function moduleStep(from: string, next?: string): StepDefinition {
  return { stepType: 'MODULE', moduleIdentifier: 'peers/step', inputMappings: { s: `${from}.s`, i: `${from}.i` }, ...(next ? { defaultNextStepInstanceId: next } : {}) };
}

/** The flows of the workloads: `peers/child` (3 steps), `peers/parent`, `peers/steps` (`stepsPerRun` steps). */
function peerFlows(stepsPerRun: number, call: 'child-run' | 'subflow'): FlowDefinition[] {
  const params = { s: { type: 'number' as const, required: true }, i: { type: 'number' as const, required: true }, payload: { type: 'map' as const, required: false } };
  const child = (from: string): Record<string, StepDefinition> => ({ c1: moduleStep(from, 'c2'), c2: moduleStep('$.steps.c1', 'c3'), c3: moduleStep('$.steps.c2') });
  const steps: Record<string, StepDefinition> = {};
  for (let k = 0; k < stepsPerRun; k++) steps[`s${k}`] = moduleStep(k === 0 ? '$.input' : `$.steps.s${k - 1}`, k + 1 < stepsPerRun ? `s${k + 1}` : undefined);
  const parentSteps: Record<string, StepDefinition> =
    call === 'child-run'
      ? {
          p1: moduleStep('$.input', 'call'),
          call: { stepType: 'RUN_FLOW', flowDefinitionId: 'peers/child', inputMappings: { s: '$.steps.p1.s', i: '$.steps.p1.i' }, defaultNextStepInstanceId: 'p2' },
          p2: moduleStep('$.steps.call'),
        }
      : { p1: moduleStep('$.input', 'call'), call: { stepType: 'RUN_FLOW', subflow: 'child', defaultNextStepInstanceId: 'p2' }, p2: moduleStep('$.steps.call') };
  return [
    { id: 'peers/child', actions: { main: { params, startAt: 'c1', steps: child('$.input') } } },
    { id: 'peers/parent', actions: { main: { params, startAt: 'p1', steps: parentSteps } }, ...(call === 'subflow' ? { subflows: { child: { startAt: 'c1', steps: child('$.input') } } } : {}) },
    { id: 'peers/steps', actions: { main: { params, startAt: 's0', steps } } },
  ];
}
