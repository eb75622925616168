/**
 * Nothing lost at the edges (issue 12): an EMIT that is a run's last step is published even when
 * the process dies between the run's final commit and the publish. A real worker process is
 * killed with SIGKILL right after that commit; another worker over the same store publishes the
 * event from the store's outbox, once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, type FlowDefinition } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';

const root = resolve(import.meta.dirname, '../..');

const emitter: FlowDefinition = {
  id: 'emitter',
  actions: {
    main: {
      startAt: 'work',
      steps: {
        work: { stepType: 'COMPUTE', expression: '{order: input.order}', defaultNextStepInstanceId: 'announce' },
        announce: { stepType: 'EMIT', event: 'order.done', payload: '{order: input.order}' },
      },
    },
  },
};
const receiver: FlowDefinition = {
  id: 'receiver',
  actions: { main: { startAt: 'r', steps: { r: { stepType: 'COMPUTE', expression: '{received: event.order}' } } } },
  subscriptions: [{ on: 'order.done', run: 'main' }],
};

/** Runs the worker to its end; resolves with how it ended and what it printed. */
function runWorker(storeSpec: string, env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/recovery/emit-worker.ts'], {
    cwd: root,
    env: { ...process.env, FLOWRUN_STORE: storeSpec, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolveExit) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveExit({ code, signal, out, err });
    }),
  );
}

async function emitSurvivesTheCrash(storeSpec: string): Promise<void> {
  const setup = openStoreSpec(storeSpec);
  // An engine that executes nothing: it only deploys and records the run for the workers.
  const seeder = createEngine({ stores: setup, poll: false, maxConcurrentRuns: 0 });
  await seeder.deployFlow(emitter, { publish: true });
  await seeder.deployFlow(receiver, { publish: true });
  await seeder.startRun({ flow: 'emitter', input: { order: 'o-42' }, requestId: 'emitter-1' });
  await seeder.close();
  await setup.close();

  const killed = await runWorker(storeSpec, { FLOWRUN_KILL_AFTER_END: 'emitter-1' });
  expect(killed.signal, killed.err).toBe('SIGKILL');
  const store = openStoreSpec(storeSpec);
  try {
    // Killed after the commit and before the publish: the run ended, nobody received anything.
    expect(await store.getRun('emitter-1')).toMatchObject({ status: 'SUCCEEDED' });
    expect((await store.listRuns({ flowId: 'receiver' })).runs).toEqual([]);

    const next = await runWorker(storeSpec);
    expect(next.out, next.err).toContain('DONE');
    const received = (await store.listRuns({ flowId: 'receiver' })).runs;
    expect(received.map((r) => [r.status, r.source, r.output])).toEqual([['SUCCEEDED', 'event', { received: 'o-42' }]]);
    expect(await store.listPendingEmits({ recordedBefore: Number.MAX_SAFE_INTEGER, limit: 10 })).toEqual([]);
  } finally {
    await store.close();
  }
}

describe('EMIT outbox (SIGKILL between the last commit and the publish)', () => {
  it('publishes the last step\'s event from the outbox in the next process, once, on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-emit-'));
    await emitSurvivesTheCrash(`sqlite:${join(dir, 'flowrun.db')}`);
  }, 120_000);

  it.skipIf(!pgUrl)(`publishes the last step's event from the outbox in the next process, once, on PostgreSQL${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_emit');
    try {
      await emitSurvivesTheCrash(spec);
    } finally {
      await drop();
    }
  }, 120_000);
});
