/**
 * What a load balancer sees of a real `flowrun serve` over PostgreSQL when the database goes away
 * and comes back: `/ready` 503 while it is unreachable and 200 once it is back, `/health` 200
 * throughout, and one log line each way. The outage is a TCP proxy cut in front of the shared
 * PostgreSQL (never the server itself).
 */
import { describe, expect, it } from 'vitest';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { CuttableProxy, throughProxy } from '../support/cuttable-proxy.js';
import { startServeProcess } from '../support/serve-process.js';

/** Polls `probe` until it answers `status` (the server notices an outage at its next request or poll). */
async function until(probe: () => Promise<number>, status: number): Promise<number> {
  let last = 0;
  for (let i = 0; i < 200 && last !== status; i++) {
    last = await probe();
    if (last !== status) await new Promise((r) => setTimeout(r, 50));
  }
  return last;
}

describe('readiness of flowrun serve', () => {
  it.skipIf(!pgUrl)(`answers /ready 503 while PostgreSQL is unreachable and 200 once it is back; /health stays 200${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_ready');
    const target = new URL(pgUrl!);
    const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    const serve = await startServeProcess({ store: throughProxy(spec, proxy), args: ['--log-format', 'json', '--no-dashboard'] });
    const status = async (path: string): Promise<number> => (await serve.request('GET', path, { token: null })).status;
    try {
      expect(await status('/ready')).toBe(200);
      expect(await status('/health')).toBe(200);
      await proxy.cut();
      expect(await until(() => status('/ready'), 503)).toBe(503);
      expect(await status('/health')).toBe(200);
      const body = await (await serve.request('GET', '/ready', { token: null })).json();
      expect(body).toMatchObject({ error: { code: 'STORE_ERROR' } });
      // The worker's poller notices too (at its next poll, within a second), and says so once.
      expect(await until(async () => (serve.logs().includes('store unavailable') ? 1 : 0), 1)).toBe(1);
      await proxy.start();
      expect(await until(() => status('/ready'), 200)).toBe(200);
      expect(await until(async () => (serve.logs().includes('store available again') ? 1 : 0), 1)).toBe(1);
      expect(await serve.stop()).toBe(0);
      const lines = serve.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string });
      expect(lines.some((l) => l.level === 'error' && l.msg.startsWith('store unavailable'))).toBe(true);
      expect(lines.some((l) => l.level === 'info' && l.msg.startsWith('store available again'))).toBe(true);
    } finally {
      await serve.kill().catch(() => undefined);
      await proxy.stop();
      await drop();
    }
  }, 90_000);
});
