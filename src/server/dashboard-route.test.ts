import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores } from '../index.js';
import { createFlowApiRouter, type FlowApiRouterOptions } from './index.js';

/** A built dashboard's shape: the page, a hashed asset, and a secret beside the folder that must never be served. */
function fakeBuild(): string {
  const parent = mkdtempSync(join(tmpdir(), 'flowrun-dashboard-route-'));
  writeFileSync(join(parent, 'secret.txt'), 'not for the web');
  const dir = join(parent, 'dashboard');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html><head>\n<meta name="flowrun-api" content="" />\n</head><body></body></html>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), `console.log(${JSON.stringify('x'.repeat(4000))});`);
  writeFileSync(join(dir, 'assets', 'index-abc123.css'), 'body{}');
  return dir;
}

function router(options: Partial<FlowApiRouterOptions> = {}) {
  return createFlowApiRouter({ engine: createEngine({ stores: createMemoryStores() }), dashboard: { dir: fakeBuild() }, ...options });
}

const get = (r: ReturnType<typeof router>, path: string, headers: Record<string, string> = {}) => r.fetch(new Request(`http://localhost${path}`, { headers }));

describe('the dashboard served by the router', () => {
  it('answers the page without credentials under /ui/, for any of its own paths, and sends / there', async () => {
    const r = router();
    const root = await get(r, '/');
    expect([root.status, root.headers.get('location')]).toEqual([302, '/ui/']);
    for (const path of ['/ui/', '/ui/runs', '/ui/runs/0192-abc', '/ui/flows/orders%2Fprocess']) {
      const page = await get(r, path);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('<base href="/ui/" />');
    }
  });

  it('serves hashed assets with their type, cached for a year, gzipped when asked', async () => {
    const r = router();
    const js = await get(r, '/ui/assets/index-abc123.js', { 'accept-encoding': 'gzip, br' });
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-encoding')).toBe('gzip');
    const plain = await get(r, '/ui/assets/index-abc123.css');
    expect([plain.headers.get('content-type'), await plain.text()]).toEqual(['text/css; charset=utf-8', 'body{}']);
  });

  it('never serves a file outside the build, and leaves the API its JSON 404 and 401', async () => {
    const r = router();
    for (const path of ['/ui/../secret.txt', '/ui/%2e%2e/secret.txt', '/ui/..%2fsecret.txt', '/ui/assets/..%2f..%2fsecret.txt', '/ui/assets/missing.js', '/ui/%00.js']) {
      const response = await get(r, path);
      expect(await response.text()).not.toContain('not for the web');
      expect(response.headers.get('content-type')).not.toContain('text/javascript');
    }
    const missing = await get(r, '/ui/assets/missing.js');
    expect([missing.status, (await missing.json()).error.code]).toEqual([404, 'ROUTE_NOT_FOUND']);
    const api = await get(r, '/no-such-route', { authorization: 'Bearer frt_x' });
    expect((await api.json()).error.code).toBe('UNAUTHENTICATED');
    expect((await get(r, '/runs')).status).toBe(401);
  });

  it('mounts under the router basePath and names it to the page as the API base', async () => {
    const r = router({ basePath: '/api/flowrun' });
    expect((await get(r, '/api/flowrun/')).headers.get('location')).toBe('/api/flowrun/ui/');
    const page = await (await get(r, '/api/flowrun/ui/runs')).text();
    expect(page).toContain('<base href="/api/flowrun/ui/" />');
    expect(page).toContain('<meta name="flowrun-api" content="/api/flowrun" />');
  });

  it('is off unless asked for: / stays the API (401 without a token)', async () => {
    const r = createFlowApiRouter({ engine: createEngine({ stores: createMemoryStores() }) });
    expect((await get(r, '/')).status).toBe(401);
    expect((await get(r, '/ui/')).status).toBe(401);
  });
});
