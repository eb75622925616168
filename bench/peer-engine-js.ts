/**
 * The JavaScript peers as {@link PeerEngine}s: plain async functions (the floor), Mastra workflows
 * and LangGraph graphs, each without storage, with its in-memory store, or with its SQLite store
 * (Mastra + LibSQL, LangGraph + SqliteSaver). The parent's child is a nested workflow (Mastra) or
 * a subgraph (LangGraph): in the same run, like flowrun's subflow.
 *
 * The peers come from bench/node_modules (bench/package.json) and are imported by computed names,
 * so type checking the repository never needs them installed; the interfaces below are the part
 * of their APIs this file calls. The SQLite peers' `synchronous` level is read back from their
 * own connection and stated with the figures.
 */
import { join } from 'node:path';
import { checkResult, step, type PeerEngine, type PeerEngineOptions, type Payload, type StepResult } from './peer-workloads.js';

/** A Zod-like schema builder (Mastra's workflows are typed by Zod schemas). */
interface Zod {
  object(shape: Record<string, unknown>): unknown;
  number(): unknown;
  any(): { optional(): unknown };
}
interface MastraStep {
  readonly id: string;
}
interface MastraWorkflow {
  then(next: MastraStep | MastraWorkflow): MastraWorkflow;
  commit(): MastraWorkflow;
  createRun(): Promise<{ start(args: { inputData: unknown }): Promise<{ status: string; result?: unknown; error?: { message?: string } }> }>;
}
interface MastraWorkflows {
  createWorkflow(options: { id: string; inputSchema: unknown; outputSchema: unknown }): MastraWorkflow;
  createStep(options: { id: string; inputSchema: unknown; outputSchema: unknown; execute: (args: { inputData: StepResult }) => Promise<StepResult> }): MastraStep;
}
interface LibsqlClient {
  execute(sql: string): Promise<{ rows: Record<string, unknown>[] }>;
}
interface LangGraphCompiled {
  invoke(input: unknown, config: Record<string, unknown>): Promise<StepResult>;
}
interface LangGraphBuilder {
  addNode(name: string, node: unknown): LangGraphBuilder;
  addEdge(from: string, to: string): LangGraphBuilder;
  compile(options?: { checkpointer?: unknown }): LangGraphCompiled;
}
interface LangGraph {
  StateGraph: new (state: unknown) => LangGraphBuilder;
  Annotation: { Root(shape: Record<string, unknown>): unknown } & (() => unknown);
  START: string;
  END: string;
  MemorySaver: new () => unknown;
}

/** Imports a bench/ dependency by a computed name (see the file comment). */
async function peerModule<T>(name: string): Promise<T> {
  return (await import(name)) as T;
}

/** Plain async functions calling {@link step}: what the work costs without an engine. */
export async function plainPeer(options: PeerEngineOptions): Promise<PeerEngine & { durability: string }> {
  const call = async (x: StepResult): Promise<StepResult> => step(x);
  const child = async (x: StepResult): Promise<StepResult> => call(await call(await call(x)));
  return {
    durability: 'none (plain functions)',
    parent: async (i) => call(await child(await call({ s: 0, i }))),
    steps: async (i) => {
      let x: StepResult = { s: 0, i };
      for (let k = 0; k < options.stepsPerRun; k++) x = await call(x);
      return x;
    },
    close: async () => undefined,
  };
}

/** Mastra workflows with no storage, its InMemoryStore, or a LibSQLStore file (`libsql`). */
export async function mastraPeer(options: PeerEngineOptions & { storage: 'none' | 'memory' | 'libsql' }): Promise<PeerEngine & { durability: string }> {
  const { createWorkflow, createStep } = await peerModule<MastraWorkflows>('@mastra/core/workflows');
  const { z } = await peerModule<{ z: Zod }>('zod');
  const S = z.object({ s: z.number(), i: z.number() });
  const In = z.object({ s: z.number(), i: z.number(), payload: z.any().optional() });
  const mk = (id: string, inputSchema: unknown = S): MastraStep => createStep({ id, inputSchema, outputSchema: S, execute: async ({ inputData }) => step(inputData) });
  const child = createWorkflow({ id: 'child', inputSchema: S, outputSchema: S }).then(mk('c1')).then(mk('c2')).then(mk('c3')).commit();
  const parent = createWorkflow({ id: 'parent', inputSchema: S, outputSchema: S }).then(mk('p1')).then(child).then(mk('p2')).commit();
  let steps = createWorkflow({ id: 'steps', inputSchema: In, outputSchema: S });
  for (let k = 0; k < options.stepsPerRun; k++) steps = steps.then(mk(`s${k}`, k === 0 ? In : S));
  steps = steps.commit();
  let P = parent;
  let W = steps;
  let durability = 'none (no storage)';
  let close = async (): Promise<void> => undefined;
  if (options.storage !== 'none') {
    const { Mastra } = await peerModule<{ Mastra: new (o: Record<string, unknown>) => { getWorkflow(id: string): MastraWorkflow } }>('@mastra/core/mastra');
    let storage: unknown;
    let libsql: { init(): Promise<void>; close?(): Promise<void>; client?: LibsqlClient } | null = null;
    if (options.storage === 'memory') {
      const { InMemoryStore } = await peerModule<{ InMemoryStore: new () => unknown }>('@mastra/core/storage');
      storage = new InMemoryStore();
      durability = 'none (InMemoryStore)';
    } else {
      const { LibSQLStore } = await peerModule<{ LibSQLStore: new (o: { id: string; url: string }) => NonNullable<typeof libsql> }>('@mastra/libsql');
      const store = new LibSQLStore({ id: 'peers', url: `file:${join(options.workDir, 'mastra.db')}` });
      storage = libsql = store;
      close = async () => store.close?.();
    }
    const mastra = new Mastra({ workflows: { parent, child, steps }, storage, logger: false });
    if (libsql) {
      await libsql.init();
      durability = `LibSQL file, ${await libsqlPragmas(libsql.client)}; a snapshot per step`;
    }
    P = mastra.getWorkflow('parent');
    W = mastra.getWorkflow('steps');
  }
  const go = async (wf: MastraWorkflow, inputData: Record<string, unknown>): Promise<StepResult> => {
    const run = await wf.createRun();
    const r = await run.start({ inputData });
    if (r.status !== 'success') throw new Error(`mastra: ${r.status} ${r.error?.message ?? ''}`);
    return r.result as StepResult;
  };
  const peer: PeerEngine & { durability: string } = {
    durability,
    parent: (i) => go(P, { s: 0, i }),
    steps: (i, payload) => go(W, payload ? { s: 0, i, payload } : { s: 0, i }),
    close,
  };
  checkResult('mastra', await peer.parent(7), 5, 7);
  return peer;
}

/** "WAL, synchronous=NORMAL" as the LibSQL connection reports it. */
async function libsqlPragmas(client: LibsqlClient | undefined): Promise<string> {
  if (!client) return 'synchronous not readable';
  const sync = (await client.execute('PRAGMA synchronous')).rows[0]?.synchronous;
  const journal = (await client.execute('PRAGMA journal_mode')).rows[0]?.journal_mode;
  return `${String(journal).toUpperCase()}, synchronous=${syncName(sync)}`;
}

/** SQLite's synchronous level by name (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA). */
function syncName(level: unknown): string {
  return ['OFF', 'NORMAL', 'FULL', 'EXTRA'][Number(level)] ?? String(level);
}

/**
 * LangGraph graphs without a checkpointer, with MemorySaver, or with SqliteSaver (`sqlite`,
 * durability 'sync': each node's checkpoint is written before the next node starts — its
 * strictest mode).
 */
export async function langGraphPeer(options: PeerEngineOptions & { checkpointer: 'none' | 'memory' | 'sqlite' }): Promise<PeerEngine & { durability: string }> {
  const { StateGraph, Annotation, START, END, MemorySaver } = await peerModule<LangGraph>('@langchain/langgraph');
  let saver: unknown;
  let durability = 'none (no checkpointer)';
  let close = async (): Promise<void> => undefined;
  if (options.checkpointer === 'memory') {
    saver = new MemorySaver();
    durability = 'none (MemorySaver)';
  } else if (options.checkpointer === 'sqlite') {
    const { SqliteSaver } = await peerModule<{ SqliteSaver: { fromConnString(path: string): { db: { pragma(p: string, o: { simple: true }): unknown; close(): void }; getTuple(c: unknown): Promise<unknown> } } }>('@langchain/langgraph-checkpoint-sqlite');
    const sqlite = SqliteSaver.fromConnString(join(options.workDir, 'langgraph.db'));
    await sqlite.getTuple({ configurable: { thread_id: 'setup' } }); // creates the tables and sets the pragmas
    durability = `SQLite ${String(sqlite.db.pragma('journal_mode', { simple: true })).toUpperCase()}, synchronous=${syncName(sqlite.db.pragma('synchronous', { simple: true }))}; checkpoint per node, durability 'sync'`;
    saver = sqlite;
    close = async () => sqlite.db.close();
  }
  const State = Annotation.Root({ s: Annotation(), i: Annotation(), payload: Annotation() });
  const node = async (x: StepResult): Promise<StepResult> => step(x);
  const child = new StateGraph(State).addNode('c1', node).addNode('c2', node).addNode('c3', node).addEdge(START, 'c1').addEdge('c1', 'c2').addEdge('c2', 'c3').addEdge('c3', END).compile();
  const compile = (g: LangGraphBuilder): LangGraphCompiled => g.compile(saver ? { checkpointer: saver } : {});
  const parent = compile(new StateGraph(State).addNode('p1', node).addNode('child', child).addNode('p2', node).addEdge(START, 'p1').addEdge('p1', 'child').addEdge('child', 'p2').addEdge('p2', END));
  let g = new StateGraph(State);
  for (let k = 0; k < options.stepsPerRun; k++) g = g.addNode(`s${k}`, node);
  g = g.addEdge(START, 's0');
  for (let k = 0; k + 1 < options.stepsPerRun; k++) g = g.addEdge(`s${k}`, `s${k + 1}`);
  const steps = compile(g.addEdge(`s${options.stepsPerRun - 1}`, END));
  let thread = 0;
  const config = (limit: number): Record<string, unknown> =>
    saver ? { recursionLimit: limit, configurable: { thread_id: `t${process.pid}-${++thread}` }, durability: options.checkpointer === 'sqlite' ? 'sync' : 'async' } : { recursionLimit: limit };
  const peer: PeerEngine & { durability: string } = {
    durability,
    parent: async (i) => pick(await parent.invoke({ s: 0, i }, config(25))),
    steps: async (i, payload: Payload | null) => pick(await steps.invoke(payload ? { s: 0, i, payload } : { s: 0, i }, config(options.stepsPerRun + 10))),
    close,
  };
  checkResult('langgraph', await peer.parent(7), 5, 7);
  return peer;
}

/** `{s, i}` of a LangGraph state (which also holds the payload). */
function pick(state: StepResult): StepResult {
  return { s: state.s, i: state.i };
}
