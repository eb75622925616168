/**
 * Seed 002 as its users write it: a job starts a flow with `runAction`, fire-and-forget with its
 * own requestId, and "a separate HTTP server backed by the same stores" — a real `flowrun serve`
 * in another process — streams it live from the first moment: the stream is opened before the run
 * is recorded, carries every transient item and output snapshot the run emits while it is
 * connected, and the module's log entries while the step still runs (GET /runs/{id}/logs too).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { freshSqliteSpec, startServeProcess } from '../support/serve-process.js';
import type { LiveRunEvent } from '../../src/index.js';

const root = resolve(import.meta.dirname, '../..');
const COUNT = 300;

/** Waits until `done()` holds, letting the processes work; throws after `rounds` turns of 20 ms. */
async function until(done: () => boolean, what: string, rounds = 1_500): Promise<void> {
  for (let i = 0; i < rounds && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!done()) throw new Error(`gave up waiting for ${what}`);
}

async function watchTheJobFromServe(store: string): Promise<void> {
  // The job process is still starting when the stream opens: the watch waits for the run (60 s here, for a loaded machine).
  const serve = await startServeProcess({ store, args: ['--budget', 'maxWatchWaitMs=60000'] });
  const control = mkdtempSync(join(tmpdir(), 'flowrun-seed002-'));
  const requestId = crypto.randomUUID();
  const streaming = serve.request('GET', `/runs/${requestId}/stream`);
  const job = spawn(process.execPath, ['--import', 'tsx', 'test/support/live-job-process.ts', requestId, control, String(COUNT)], {
    cwd: root,
    env: { ...process.env, FLOWRUN_STORE: store },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const jobExited = new Promise<number | null>((r) => job.on('exit', (code) => r(code)));
  try {
    const response = await streaming;
    expect(response.status).toBe(200);
    const events: LiveRunEvent[] = [];
    const parser = createParser({ onEvent: (message) => message.event !== 'error' && events.push(JSON.parse(message.data) as LiveRunEvent) });
    const reading = (async () => {
      const decoder = new TextDecoder();
      const reader = response.body!.getReader();
      for (let next = await reader.read(); !next.done; next = await reader.read()) parser.feed(decoder.decode(next.value, { stream: true }));
    })();
    // Attached: the module goes on only now, so everything it emits next happens while we are connected.
    await until(() => events.length > 0, 'the first event');
    writeFileSync(join(control, 'go'), '');
    const typing = (): number[] => events.flatMap((e) => (e.kind === 'item' && e.transient && e.item.type === 'typing' ? [(e.item.content as { i: number }).i] : []));
    const logged = (code: string): boolean => events.some((e) => e.kind === 'log' && e.entry.code === code);
    await until(() => logged('DigestWaiting') && typing().length >= COUNT, 'the transient items and the log entries');
    // The step still runs: its log entries are in the run's logs already.
    const run = await serve.json('GET', `/runs/${requestId}`);
    expect(run.body.run.status).toBe('ACTIVE');
    const logs = await serve.json<{ entries: { code: string; description: string }[] }>('GET', `/runs/${requestId}/logs?limit=1000`);
    expect(logs.body.entries.filter((e) => e.code === 'Progress')).toHaveLength(COUNT / 10);
    expect(logs.body.entries.map((e) => e.code)).toContain('DigestWaiting');
    const snapshots = events.flatMap((e) => (e.kind === 'output' && e.transient ? [e.value] : []));
    expect(snapshots.length).toBeGreaterThan(0);
    await until(() => events.some((e) => e.kind === 'output' && e.transient && e.value === `line ${COUNT - 1}`), 'the last output snapshot');
    writeFileSync(join(control, 'release'), '');
    await reading;
    expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
    // Every transient item, once, in the order emitted; every persisted event once, in order.
    expect(typing()).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    const persisted = events.filter((e) => !e.transient);
    expect(persisted.map((e) => e.seq)).toEqual(persisted.map((_, i) => i + 1));
    // The log entries came while the step ran: before the step's own outcome entry.
    const codes = persisted.flatMap((e) => (e.kind === 'log' ? [e.entry.code] : []));
    expect(codes.indexOf('DigestWaiting')).toBeLessThan(codes.indexOf('StepSucceeded'));
    expect(await jobExited).toBe(0);
  } finally {
    job.kill();
    await serve.stop();
  }
}

describe('seed 002: a separate server watches a runAction job live, all of it', () => {
  it('over one SQLite folder', async () => {
    await watchTheJobFromServe(freshSqliteSpec());
  }, 120_000);

  it.skipIf(!pgUrl)(`over PostgreSQL${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_seed002');
    try {
      await watchTheJobFromServe(spec);
    } finally {
      await drop();
    }
  }, 120_000);
});
