/** The remote commands' token options, what they say when the server refuses, and how they print times. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';
import { serve, type RunningServer } from '../server/listen.js';
import { main } from './main.js';
import { formatRunEvent } from './format-run-event.js';
import { humanTimesIn, resolveToken, UsageError } from './remote-client.js';

describe('remote commands', () => {
  let f: ServerFixture;
  let server: RunningServer;
  let runId = '';
  beforeAll(async () => {
    f = await createServerFixture();
    server = await serve({ router: f.router });
    ({ requestId: runId } = await f.engine.startRun({ flow: 'demo/echo', input: { n: 1 }, userId: 'olivia' }));
    await f.engine.waitForRun(runId);
  });
  afterAll(async () => {
    await server.close();
    await f.close();
  });

  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main([...args, '--server', server.url], { out: (t) => void (out += t), err: (t) => void (err += t), isTty: false });
    return { code, out, err };
  }

  it('reads the token from --token-file, so it never shows in the process list', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flowrun-token-')), 'token');
    writeFileSync(file, 'as:olivia\n');
    const r = await cli(['runs', 'get', runId, '--token-file', file]);
    expect(r.err).toBe('');
    expect(r.out).toContain(`run:        ${runId}`);
  });

  it('prints times in one format with their zone', async () => {
    const r = await cli(['runs', 'get', runId, '--token', 'as:olivia']);
    expect(r.out).toMatch(/started: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n/);
    const list = await cli(['runs', 'list', '--token', 'as:olivia']);
    expect(list.out).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  });

  it('names FLOWRUN_TOKEN and `flowrun tokens create` when the server wants a token', async () => {
    const r = await cli(['runs', 'list']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('UNAUTHENTICATED');
    expect(r.err).toContain('FLOWRUN_TOKEN');
    expect(r.err).toContain('flowrun tokens create');
  });

  it('refuses an empty token file and two token sources at once, as mistakes on the command line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flowrun-token-')), 'token');
    writeFileSync(file, '\n');
    const r = await cli(['runs', 'list', '--token-file', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no token');
    expect((await cli(['runs', 'list', '--token-file', file, '--token-stdin'])).code).toBe(2);
  });
});

describe('resolveToken', () => {
  it('takes the first line of standard input with --token-stdin, before --token', () => {
    expect(resolveToken({ server: 'x', token: 'from-flag', tokenStdin: true }, () => 'frt_abc\nignored\n')).toBe('frt_abc');
    expect(resolveToken({ server: 'x', token: 'from-flag' }, () => 'unused')).toBe('from-flag');
    expect(() => resolveToken({ server: 'x', tokenStdin: true }, () => '')).toThrow(UsageError);
  });
});

describe('times the engine writes', () => {
  it('print in the CLI\'s format in a watched run', () => {
    expect(humanTimesIn('step nap waits until 2026-12-05T07:01:00.000Z')).toBe('step nap waits until 2026-12-05 07:01:00 UTC');
    const line = formatRunEvent({ kind: 'log', runId: 'r1', seq: 2, time: 0, entry: { time: 0, code: 'WaitStarted', description: 'step nap waits until 2026-12-05T07:01:00.000Z' } }, new Map());
    expect(line).toBe('[r1] WaitStarted: step nap waits until 2026-12-05 07:01:00 UTC\n');
  });
});
