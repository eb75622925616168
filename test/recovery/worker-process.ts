/**
 * Worker processes for the recovery tests (worker.ts, started with tsx), and how many runs they
 * still have to do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { Store } from '../../src/index.js';

const root = resolve(import.meta.dirname, '../..');

/** A worker process: `working` once it executed a step of some run (or exited). */
export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<void>;
  working: Promise<void>;
}

/** Starts test/recovery/worker.ts over `storeSpec`, writing its modules' effects in `dir`. */
export function spawnWorker(storeSpec: string, dir: string, options: { leaseMs: number; maxConcurrent: number }): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/recovery/worker.ts'], {
    cwd: root,
    env: { ...process.env, FLOWRUN_STORE: storeSpec, FLOWRUN_EFFECTS_DIR: dir, FLOWRUN_MAX_CONCURRENT: String(options.maxConcurrent), FLOWRUN_LEASE_MS: String(options.leaseMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const working = new Promise<void>((r) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('working')) r();
    });
    void exited.then(r);
  });
  return { child, exited, working };
}

/** How many runs are ACTIVE in `store`. */
export async function activeRuns(store: Store): Promise<number> {
  let count = 0;
  let marker: string | undefined;
  do {
    const page = await store.listRuns({ status: ['ACTIVE'], limit: 1_000, ...(marker ? { marker } : {}) });
    count += page.runs.length;
    marker = page.marker ?? undefined;
  } while (marker);
  return count;
}
