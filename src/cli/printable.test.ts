import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';
import { serve, type RunningServer } from '../server/listen.js';
import { formatRunEvent } from './format-run-event.js';
import { main } from './main.js';
import { printable, printableLines } from './printable.js';

const EVIL = '\x1b[2J evil';

describe('printable', () => {
  it('writes control characters visibly: ESC as \\x1b, newlines as \\n, C1 and bidi overrides too', () => {
    expect(printable(EVIL)).toBe('\\x1b[2J evil');
    expect(printable('a\nb\r\tc\x00\x7f\x9b\u202e')).toBe('a\\nb\\r\\tc\\x00\\x7f\\x9b\\u202e');
    expect(printable('plain ünïcödé / C:\\path')).toBe('plain ünïcödé / C:\\path');
    expect(printableLines('line 1\n\tline 2\x1b]0;title\x07\n')).toBe('line 1\n\tline 2\\x1b]0;title\\x07\n');
  });

  it('keeps a watched run from writing escape sequences or forging lines', () => {
    const line = formatRunEvent({ kind: 'log', runId: 'r1', seq: 1, time: 0, entry: { time: 0, code: 'Note', description: `${EVIL}\n[r1] SUCCEEDED` } }, new Map());
    expect(line).toBe('[r1] Note: \\x1b[2J evil\\n[r1] SUCCEEDED\n');
  });
});

describe('the CLI prints what users wrote escaped', () => {
  let f: ServerFixture;
  let server: RunningServer;
  let runId = '';
  beforeAll(async () => {
    f = await createServerFixture();
    server = await serve({ router: f.router });
    ({ requestId: runId } = await f.engine.startRun({ flow: 'demo/echo', input: { n: 1 }, userId: 'olivia', label: EVIL, tags: ['\x1b]0;owned\x07'] }));
    await f.engine.waitForRun(runId);
  });
  afterAll(async () => {
    await server.close();
    await f.close();
  });

  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main([...args, '--server', server.url, '--token', 'as:olivia'], { out: (t) => void (out += t), err: (t) => void (err += t), isTty: true });
    return { code, out, err };
  }

  it('in `runs list` and `runs get`: labels and tags', async () => {
    const list = await cli(['runs', 'list']);
    expect(list.code, list.err).toBe(0);
    expect(list.out).toContain('\\x1b[2J evil');
    const got = await cli(['runs', 'get', runId]);
    expect(got.out).toContain('label:      \\x1b[2J evil');
    expect(got.out).toContain('tags:       \\x1b]0;owned\\x07');
    expect(list.out + got.out).not.toContain('\x1b');
    expect(list.out + got.out).not.toContain('\x07');
  });

  it('in error messages from the server', async () => {
    const missing = await cli(['runs', 'get', `nope${EVIL}`]);
    expect(missing.code).toBe(1);
    expect(missing.err).not.toContain('\x1b');
  });
});
