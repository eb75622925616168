/**
 * `flowrun schedules …` against a server on a real port (in this process, manual clock): create,
 * pause with a note, resume, backfill and trigger, `runs list --schedule`, as a user types them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores } from '../../index.js';
import { serve, type RunningServer } from '../../server/listen.js';
import { createManualClock } from '../../testing/manual-clock.js';
import { createServerFixture, type ServerFixture } from '../../../test/support/server-fixture.js';
import { main } from '../main.js';

let f: ServerFixture;
let server: RunningServer;
const clock = createManualClock(Date.parse('2026-01-05T09:59:00Z'));
beforeAll(async () => {
  const stores = createMemoryStores();
  f = await createServerFixture({ stores, engine: createEngine({ stores, clock, poll: false }) });
  server = await serve({ router: f.router });
});
afterAll(async () => {
  await server.close();
  await f.close();
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main([...args, '--server', server.url, '--token', 'as:olivia'], { out: (t) => void (out += t), err: (t) => void (err += t), isTty: false });
  return { code, out, err };
}

describe('flowrun schedules', () => {
  it('creates, pauses with a note, resumes, backfills and triggers a schedule, and lists its runs', async () => {
    const created = await cli('schedules', 'create', 'demo/echo', '--id', 'nightly', '--cron', '30 2 * * *', '--timezone', 'Europe/Paris', '--input', '{"n": 3}');
    expect(created).toMatchObject({ code: 0, err: '' });
    expect(created.out).toContain('nightly: demo/echo main, cron "30 2 * * *" in Europe/Paris, overlap skip');
    expect(created.out).toContain('next: 2026-01-06 01:30:00 UTC, 2026-01-07 01:30:00 UTC');

    const paused = await cli('schedules', 'pause', 'nightly', '--note', 'migration weekend');
    expect(paused.out).toContain('paused: migration weekend');
    expect((await cli('schedules', 'list')).out).toMatch(/nightly\s+demo\/echo\s+30 2 \* \* \*\s+paused/);
    expect((await cli('schedules', 'resume', 'nightly')).out).toContain('active; 0 run(s)');

    const backfill = await cli('schedules', 'backfill', 'nightly', '--from', '2026-01-01', '--to', '2026-01-03T12:00:00Z');
    expect(backfill.code).toBe(0);
    expect(backfill.out).toMatch(/2026-01-01 01:30:00 UTC {2}started/);
    expect(backfill.out).toMatch(/2026-01-02 01:30:00 UTC {2}skipped .*policy skip/);
    await f.engine.whenIdle();
    const triggered = await cli('schedules', 'trigger', 'nightly', '--json');
    expect(JSON.parse(triggered.out).outcomes[0]).toMatchObject({ status: 'started', kind: 'trigger' });
    await f.engine.whenIdle();

    const runs = await cli('runs', 'list', '--schedule', 'nightly', '--json');
    expect(JSON.parse(runs.out).runs).toHaveLength(2);
    expect((await cli('schedules', 'get', 'nightly')).out).toContain('recent runs:');
    expect((await cli('schedules', 'create', 'demo/echo', '--cron', '0 2 * *')).err).toMatch(/cron.*expected 5 or 6 fields/);
    expect((await cli('schedules', 'delete', 'nightly')).out).toBe('deleted nightly\n');
  });
});
