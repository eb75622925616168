// Several engines over one store race for the same slots: each slot fires exactly once. Three
// engines over one SQLite file in this process, and three processes over one PostgreSQL schema,
// each polling at the same (manual) times.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { createSqliteStore } from '../../src/store/sqlite/create-filesystem-stores.js';
import { createManualClock } from '../../src/testing/manual-clock.js';
import type { Store } from '../../src/core/store.js';
import { advancePolling, reportFlow, scheduleEngine } from '../support/schedule-kit.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';

const MIN = 60_000;
const START = Date.parse('2026-01-05T09:59:30Z');
const dir = mkdtempSync(join(tmpdir(), 'flowrun-schedule-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 50 schedules firing every minute: 20 minutes hold 1,000 slots. */
async function createSchedules(store: Store): Promise<void> {
  const clock = createManualClock(START);
  const engine = createEngine({ stores: store, clock, poll: false });
  await engine.deployFlow(reportFlow, { publish: true });
  for (let i = 0; i < 50; i++) await engine.schedules.create({ scheduleId: `s-${String(i).padStart(2, '0')}`, flowId: 'reports/daily', every: '1m', overlap: 'allowAll' });
  await engine.close();
}

async function expectOneRunPerSlot(store: Store): Promise<void> {
  expect(await store.countRuns({ flowId: 'reports/daily' })).toBe(1000);
  const slots = new Set<string>();
  for (let after: string | undefined; ; ) {
    const page = await store.schedules.listSchedules({ limit: 100, ...(after ? { after } : {}) });
    for (const s of page.schedules) {
      expect(s.state.runCount).toBe(20);
      for (const o of s.state.recent) slots.add(`${s.scheduleId}@${o.slot}`);
    }
    if (!page.next) break;
    after = page.next;
  }
  expect(slots.size).toBe(1000);
}

describe('engines racing for the same slots', () => {
  it('three engines over one SQLite file fire 1,000 slots as exactly 1,000 runs', async () => {
    const path = join(dir, 'race.db');
    const stores = [0, 1, 2].map(() => createSqliteStore({ path }));
    await createSchedules(stores[0]!);
    const clock = createManualClock(START);
    const engines = stores.map((stores) => createEngine({ stores, clock, poll: false }));
    await advancePolling(clock, engines, 20 * MIN, MIN);
    await Promise.all(engines.map((e) => e.whenIdle()));
    await expectOneRunPerSlot(stores[0]!);
    const runs = await stores[0]!.listRuns({ flowId: 'reports/daily', status: 'SUCCEEDED', limit: 1 });
    expect(runs.runs[0]!.source).toBe('schedule');
    for (const e of engines) await e.close();
    for (const s of stores) await s.close();
  }, 120_000);

  it('engines that fire the same schedule record at once, past any claim, start one run for its slot', async () => {
    const path = join(dir, 'same-record.db');
    const first = createSqliteStore({ path });
    const { engine: a, clock } = await scheduleEngine({ stores: first, start: START });
    const others = [1, 2].map(() => createEngine({ stores: createSqliteStore({ path }), clock, poll: false }));
    await a.schedules.create({ scheduleId: 'one', flowId: 'reports/daily', every: '1m', overlap: 'allowAll' });
    await clock.advance(MIN);
    const record = (await first.schedules.getSchedule('one'))!;
    await Promise.all([a, ...others].map((e) => e.schedules.poller.fireAndSave(record)));
    await Promise.all([a, ...others].map((e) => e.whenIdle()));
    expect(await first.countRuns({ flowId: 'reports/daily' })).toBe(1);
    expect((await first.schedules.getSchedule('one'))!.state.recent).toHaveLength(1);
    for (const e of [a, ...others]) await e.close();
  });

  it.skipIf(!pgUrl)(`three processes over PostgreSQL fire 1,000 slots as exactly 1,000 runs${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_sched_race');
    const store = openStoreSpec(spec);
    try {
      await createSchedules(store);
      const children = [0, 1, 2].map(() => spawn(process.execPath, ['--import', 'tsx', 'test/support/schedule-race-process.ts'], { env: { ...process.env, FLOWRUN_STORE: spec, FLOWRUN_CLOCK_START: String(START) } }));
      const replies = children.map(lineReader);
      for (let minute = 1; minute <= 20; minute++) {
        for (const child of children) child.stdin.write(`${START + minute * MIN}\n`);
        for (const next of replies) expect(await next()).toMatch(/^polled \d+$/);
      }
      for (const child of children) child.stdin.write('end\n');
      for (const next of replies) expect(await next()).toBe('closed');
      await expectOneRunPerSlot(store);
      expect(await store.countRuns({ flowId: 'reports/daily', status: 'SUCCEEDED' })).toBe(1000);
    } finally {
      await store.close();
      await drop();
    }
  }, 180_000);
});

/** The next line a child writes, one call at a time; rejects when it exits first. */
function lineReader(child: ChildProcessWithoutNullStreams): () => Promise<string> {
  let buffer = '';
  let stderr = '';
  let exited: Error | null = null;
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  const lines: string[] = [];
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('exit', (code) => {
    exited = new Error(`child exited (${code}): ${stderr}`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    for (let i; (i = buffer.indexOf('\n')) >= 0; ) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      const w = waiting.shift();
      if (w) w.resolve(line);
      else lines.push(line);
    }
  });
  return () => {
    if (lines.length) return Promise.resolve(lines.shift()!);
    if (exited) return Promise.reject(exited);
    return new Promise((resolve, reject) => void waiting.push({ resolve, reject }));
  };
}
