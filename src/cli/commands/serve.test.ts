import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../cli-io.js';
import { isLoopbackHost, registerServeCommand, withoutPassword, type ShutdownSignals } from './serve.js';

const dir = mkdtempSync(join(tmpdir(), 'flowrun-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tlsDir = resolve(import.meta.dirname, '../../../test/fixtures/tls');

/**
 * Runs `flowrun serve ARGS` in this process; once it listens, `whileServing` gets what it printed
 * so far, then the server is stopped as by SIGTERM.
 */
async function serveOnce(args: string[], whileServing: (printed: { out: string; err: string }) => Promise<void> = async () => undefined) {
  const printed = { out: '', err: '' };
  const io: CliIo = { out: (t) => void (printed.out += t), err: (t) => void (printed.err += t), isTty: false };
  let code = -1;
  let serving: Promise<void> = Promise.resolve();
  const signals: ShutdownSignals = {
    onShutdown(stop) {
      serving = whileServing({ ...printed }).finally(stop);
      return () => undefined;
    },
  };
  const program = new Command().exitOverride();
  registerServeCommand(program, io, (c) => (code = c), signals);
  await program.parseAsync(['serve', '--port', '0', ...args], { from: 'user' });
  await serving;
  return { code, ...printed };
}

const tokenIn = (text: string): string | undefined => /admin token \(shown once\): (frt_\S+)/.exec(text)?.[1];

describe('flowrun serve', () => {
  it('never prints the password of a connection string', () => {
    expect(withoutPassword('postgres://flowrun:s3cret@db:5432/app?schema=x')).toBe('postgres://flowrun:***@db:5432/app?schema=x');
    expect(withoutPassword('postgresql://u:p%40ss@db/app')).toBe('postgresql://u:***@db/app');
    expect(withoutPassword('postgres://db/app')).toBe('postgres://db/app');
    expect(withoutPassword('sqlite:.flowrun')).toBe('sqlite:.flowrun');
  });

  it('mints an admin token on a fresh store only; later starts say how to get one, --new-admin-token mints another', async () => {
    const store = `sqlite:${join(dir, 'tokens')}`;
    const first = await serveOnce(['--store', store]);
    expect(first.code, first.err).toBe(0);
    expect(tokenIn(first.out)).toMatch(/^frt_/);
    expect(first.out).toContain('valid 30 days');

    const second = await serveOnce(['--store', store]);
    expect(second.code, second.err).toBe(0);
    expect(tokenIn(second.out)).toBeUndefined();
    expect(second.out).toContain(`flowrun tokens create --user admin --store '${store}'`);

    const third = await serveOnce(['--store', store, '--new-admin-token']);
    expect(tokenIn(third.out)).toMatch(/^frt_/);
    expect(tokenIn(third.out)).not.toBe(tokenIn(first.out));
  });

  it('serves the dashboard at /ui/ and prints a sign-in link carrying the new token in its fragment; --no-dashboard leaves it out', async () => {
    const store = `sqlite:${join(dir, 'dashboard')}`;
    const served = await serveOnce(['--store', store], async ({ out }) => {
      const url = /flowrun is serving (\S+)/.exec(out)![1]!;
      const root = await fetch(`${url}/`, { redirect: 'manual' });
      expect([root.status, root.headers.get('location')]).toEqual([302, '/ui/']);
    });
    const url = /flowrun is serving (\S+)/.exec(served.out)![1]!;
    expect(served.out).toContain(`dashboard: ${url}/ui/\n`);
    expect(served.out).toContain(`sign in to the dashboard: ${url}/ui/#token=${tokenIn(served.out)}\n`);

    const without = await serveOnce(['--store', store, '--new-admin-token', '--no-dashboard'], async ({ out }) => {
      const url = /flowrun is serving (\S+)/.exec(out)![1]!;
      expect((await fetch(`${url}/`)).status).toBe(401);
    });
    expect(without.out).not.toMatch(/^dashboard:|sign in to the dashboard/m);
  });

  it('refuses contradictory or unknown options with exit 2 and names them', async () => {
    const both = await serveOnce(['--store', 'memory', '--no-admin-token', '--new-admin-token']);
    expect([both.code, both.err]).toEqual([2, expect.stringContaining('--new-admin-token and --no-admin-token')]);
    const halfTls = await serveOnce(['--store', 'memory', '--tls-cert', join(tlsDir, 'localhost-cert.pem')]);
    expect([halfTls.code, halfTls.err]).toEqual([2, expect.stringContaining('--tls-cert and --tls-key go together')]);
    const metrics = await serveOnce(['--store', 'memory', '--metrics', 'public']);
    expect([metrics.code, metrics.err]).toEqual([2, expect.stringContaining('--metrics must be one of admin, open, off, got "public"')]);
  });

  it('warns when bound beyond loopback without TLS, and not on 127.0.0.1', async () => {
    const local = await serveOnce(['--store', 'memory']);
    expect(local.err).not.toContain('WARNING');
    const exposed = await serveOnce(['--store', 'memory', '--host', '0.0.0.0']);
    expect(exposed.code, exposed.err).toBe(0);
    expect(exposed.err).toContain('WARNING: listening on 0.0.0.0 without TLS');
  });

  it('serves HTTPS with --tls-cert and --tls-key', async () => {
    const ca = readFileSync(join(tlsDir, 'localhost-cert.pem'));
    let health = '';
    const served = await serveOnce(['--store', 'memory', '--tls-cert', join(tlsDir, 'localhost-cert.pem'), '--tls-key', join(tlsDir, 'localhost-key.pem')], async ({ out }) => {
      const url = /flowrun is serving (\S+)/.exec(out)![1]!;
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      health = await new Promise<string>((done, fail) => {
        get(`${url}/health`, { ca, servername: 'localhost' }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => done(body));
        }).on('error', fail);
      });
    });
    expect(served.code, served.err).toBe(0);
    expect(health).toBe('{"ok":true}');
  });

  it('tells loopback addresses from the others', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '::ffff:10.0.0.1', '128.0.0.1']) expect(isLoopbackHost(host), host).toBe(false);
  });
});
