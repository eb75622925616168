/**
 * Seed 002: a run started with runAction in one process, fire-and-forget with a caller-chosen
 * requestId, is watched live from another process over the same stores.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { createEngine, type LiveRunEvent } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';

const root = resolve(import.meta.dirname, '../..');

async function watchFromAnotherProcess(storeSpec: string, carriesTransient: boolean): Promise<void> {
  const requestId = crypto.randomUUID();
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/start-run-process.ts', requestId, '60'], {
    cwd: root,
    env: { ...process.env, FLOWRUN_STORE: storeSpec },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const store = openStoreSpec(storeSpec);
  const engine = createEngine({ stores: store, poll: false, pollIntervalMs: 200 });
  try {
    // The other process records the run as soon as it starts; until then it is not there.
    for (let i = 0; i < 400; i++) {
      if (await store.getRun(requestId).catch(() => null)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const seen: LiveRunEvent[] = [];
    const lineSeenWhileRunning: boolean[] = [];
    for await (const event of engine.watchRun(requestId)) {
      seen.push(event);
      if (event.kind === 'item' && event.item.type === 'line' && event.change === 'added') lineSeenWhileRunning.push(child.exitCode === null);
    }
    expect(seen.at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
    const persisted = seen.filter((e) => !e.transient);
    expect(persisted.map((e) => e.seq)).toEqual(persisted.map((_, i) => i + 1)); // every persisted event, once, in order
    const typing = seen.filter((e) => e.transient && e.kind === 'item' && e.item.type === 'typing');
    // PostgreSQL carries transient items across processes (NOTIFY); SQLite has no channel for them.
    if (carriesTransient) expect(typing.length).toBeGreaterThanOrEqual(3);
    else expect(typing).toEqual([]);
    const items = seen.filter((e): e is Extract<LiveRunEvent, { kind: 'item' }> => e.kind === 'item');
    expect(items.filter((e) => e.change === 'added' && e.item.type === 'line').map((e) => e.item.content)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    // Live: the items arrived while the producing process was still running the module.
    expect(lineSeenWhileRunning.filter(Boolean).length).toBeGreaterThanOrEqual(3);
    expect(await exited).toBe(0);
  } finally {
    await engine.close();
    await store.close();
    child.kill();
  }
}

describe('watching a run from another process', () => {
  it('streams a run started by runAction in another process over one SQLite file', async () => {
    await watchFromAnotherProcess(`sqlite:${join(mkdtempSync(join(tmpdir(), 'flowrun-watch-')), 'flowrun.db')}`, true);
  }, 60_000);

  it.skipIf(!pgUrl)(`streams a run started by runAction in another process over PostgreSQL${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_watch');
    try {
      await watchFromAnotherProcess(spec, true);
    } finally {
      await drop();
    }
  }, 60_000);
});
