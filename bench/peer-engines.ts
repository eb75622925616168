/**
 * The engines the peer comparison and the cost-growth measurement know, by name: how to build
 * each one, whether it needs PostgreSQL, and which flowrun configuration it is compared with —
 * the one whose durability matches (same kind of storage, same fsync policy).
 */
import { readFileSync } from 'node:fs';
import { dbosPeer, restatePeer } from './peer-engine-services.js';
import { flowrunPeer } from './peer-engine-flowrun.js';
import { langGraphPeer, mastraPeer, plainPeer } from './peer-engine-js.js';
import type { PeerEngine, PeerEngineOptions } from './peer-workloads.js';

/** A built engine, with its durability stated as read back where the engine lets us read it. */
export type BuiltPeer = PeerEngine & {
  durability: string;
  /** PostgreSQL's WAL position in bytes (cluster-wide), for the engines that write there. */
  serverWalBytes?: () => Promise<number>;
  /** The SQLite store's commits so far and those whose fsync ran off the event loop (commit-sync-policy.ts), where it counts them. */
  commitCounts?: () => { commits: number; offLoopSyncs: number } | null;
};

/** One engine of the tables. */
export interface PeerEngineEntry {
  /** The row's name in the tables. */
  label: string;
  /** In process (nothing survives the process) or durable (steps survive a crash). */
  kind: 'in process' | 'durable';
  /** Needs the benchmark PostgreSQL (skipped, with the reason, when it does not answer). */
  needsPostgres?: boolean;
  /**
   * The flowrun engine this one is compared with (same durability): its runs/s ÷ this one's is
   * the ratio the tables print. A SQLite peer found at synchronous=FULL is matched with flowrun
   * FULL instead (see {@link matchedFlowrun}).
   */
  matchedWith?: string;
  make(options: PeerEngineOptions): Promise<BuiltPeer>;
}

/** Every engine by name, in the order the tables list them. */
export const PEER_ENGINES: Record<string, PeerEngineEntry> = {
  plain: { label: 'plain async functions', kind: 'in process', matchedWith: 'flowrun-memory', make: (o) => plainPeer(o) },
  'flowrun-memory': { label: 'flowrun memory (child run)', kind: 'in process', make: (o) => flowrunPeer({ ...o, store: 'memory' }) },
  'flowrun-memory-frozen': { label: 'flowrun memory (child run), input frozen by its caller', kind: 'in process', make: (o) => flowrunPeer({ ...o, store: 'memory', frozenInput: true }) },
  'flowrun-memory-subflow': { label: 'flowrun memory (subflow)', kind: 'in process', make: (o) => flowrunPeer({ ...o, store: 'memory', call: 'subflow' }) },
  mastra: { label: 'Mastra (no storage)', kind: 'in process', matchedWith: 'flowrun-memory-subflow', make: (o) => mastraPeer({ ...o, storage: 'none' }) },
  'mastra-memory': { label: 'Mastra + InMemoryStore', kind: 'in process', matchedWith: 'flowrun-memory-subflow', make: (o) => mastraPeer({ ...o, storage: 'memory' }) },
  langgraph: { label: 'LangGraph (no checkpointer)', kind: 'in process', matchedWith: 'flowrun-memory-subflow', make: (o) => langGraphPeer({ ...o, checkpointer: 'none' }) },
  'langgraph-memory': { label: 'LangGraph + MemorySaver', kind: 'in process', matchedWith: 'flowrun-memory-subflow', make: (o) => langGraphPeer({ ...o, checkpointer: 'memory' }) },
  'flowrun-sqlite-full': { label: 'flowrun SQLite FULL', kind: 'durable', make: (o) => flowrunPeer({ ...o, store: 'sqlite-full' }) },
  'flowrun-sqlite-normal': { label: 'flowrun SQLite NORMAL', kind: 'durable', make: (o) => flowrunPeer({ ...o, store: 'sqlite-normal' }) },
  'mastra-libsql': { label: 'Mastra + LibSQL', kind: 'durable', matchedWith: 'flowrun-sqlite-normal', make: (o) => mastraPeer({ ...o, storage: 'libsql' }) },
  'langgraph-sqlite': { label: 'LangGraph + SqliteSaver', kind: 'durable', matchedWith: 'flowrun-sqlite-normal', make: (o) => langGraphPeer({ ...o, checkpointer: 'sqlite' }) },
  'flowrun-pg': { label: 'flowrun PostgreSQL', kind: 'durable', needsPostgres: true, make: (o) => flowrunPeer({ ...o, store: 'pg' }) },
  dbos: { label: 'DBOS Transact (PostgreSQL)', kind: 'durable', needsPostgres: true, matchedWith: 'flowrun-pg', make: (o) => dbosPeer(o) },
  restate: { label: 'Restate', kind: 'durable', matchedWith: 'flowrun-sqlite-full', make: (o) => restatePeer(o) },
};

/** The flowrun engine `name` is compared with, given the durability it reported (null for flowrun's own rows). */
export function matchedFlowrun(name: string, durability: string | undefined): string | null {
  const entry = PEER_ENGINES[name];
  if (!entry?.matchedWith) return null;
  if (entry.matchedWith === 'flowrun-sqlite-normal' && durability && /synchronous=(FULL|EXTRA)/.test(durability)) return 'flowrun-sqlite-full';
  return entry.matchedWith;
}

/** Throws unless every name is an engine of {@link PEER_ENGINES} (the message lists them). */
export function checkEngineNames(names: string[]): void {
  for (const name of names) if (!PEER_ENGINES[name]) throw new Error(`unknown engine "${name}"; choose from ${Object.keys(PEER_ENGINES).join(', ')}`);
}

/** "Mastra @mastra/core 1.71.0, …": the installed versions of the peers (bench/node_modules), for the tables' notes. */
export function peerVersions(): string {
  const packages = ['@mastra/core', '@mastra/libsql', '@langchain/langgraph', '@langchain/langgraph-checkpoint-sqlite', '@dbos-inc/dbos-sdk', '@restatedev/restate-sdk', '@restatedev/restate-server'];
  return packages
    .map((name) => {
      try {
        return `${name} ${(JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version}`;
      } catch {
        return `${name} not installed`;
      }
    })
    .join(', ');
}
