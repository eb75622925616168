/**
 * Serves the built dashboard (`dashboard/` → `dist/dashboard/`) from the API router, before
 * authentication: the page is public, the data it shows comes from the API with the token the
 * person signs in with. Every file of the built folder is read once, on the first request, into a
 * table — a request is answered from that table only, so no path can reach a file outside it
 * (`..`, encoded slashes and symlinks never touch the file system). Hashed assets are cached for
 * a year (`immutable`); the page itself is revalidated every time (`no-cache`), since it names the
 * assets of the current build. Any path under the mount that is not a file and has no extension
 * answers the page (the dashboard routes in the browser); a missing asset is the API's 404 JSON.
 * Reading the folder needs `node:fs` (Node, Bun, Deno): where there is none (an edge runtime),
 * the mount answers 501 NOT_IMPLEMENTED.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { FlowError } from '../core/errors.js';
import { errorResponse } from './error-response.js';
import type { RouterEnv } from './router-context.js';

/** Options of the router's `dashboard`; see `FlowApiRouterOptions.dashboard`. */
export interface DashboardOptions {
  /** Where the dashboard answers, below the router's `basePath` (default `/ui`). `GET /` redirects there. */
  path?: string;
  /** The built dashboard's folder: a path or `file:` URL (default: the one shipped in this package, `dist/dashboard/`). */
  dir?: string | URL;
}

interface StaticFile {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  immutable: boolean;
  gzipped?: Promise<Uint8Array<ArrayBuffer> | null>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The page may load scripts and styles from this origin only and talk to it only; React Flow
 * positions nodes with inline styles, hence `style-src 'unsafe-inline'`.
 */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** The dashboard's mount path, normalised: leading slash, no trailing one. */
export function dashboardMountPath(options: DashboardOptions): string {
  const path = `/${(options.path ?? '/ui').replace(/^\/+|\/+$/g, '')}`;
  if (path === '/' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(path)) throw new FlowError('INVALID_INPUT', `dashboard.path must be a path like /ui (not the root), got ${JSON.stringify(options.path)}`);
  return path;
}

/** Adds `GET {path}/*` (and `GET /` → redirect) to the router; `basePath` is where the router itself is mounted. */
export function addDashboardRoutes(app: OpenAPIHono<RouterEnv>, options: DashboardOptions, basePath: string): void {
  const mount = dashboardMountPath(options);
  let files: Promise<Map<string, StaticFile>> | null = null;
  const load = (): Promise<Map<string, StaticFile>> => {
    files ??= readBuiltFolder(options.dir ?? new URL('../dashboard/', import.meta.url), `${basePath}${mount}/`, basePath).catch((error: unknown) => {
      files = null;
      throw error;
    });
    return files;
  };
  const page = `${basePath}${mount}/`;
  app.get('/', () => new Response(null, { status: 302, headers: { location: page } }));
  app.get(mount, () => new Response(null, { status: 301, headers: { location: page } }));
  app.get(`${mount}/*`, async (c) => {
    const table = await load();
    const rest = c.req.path.slice(mount.length + 1);
    const file = table.get(rest) ?? (rest.includes('.') && !rest.endsWith('.html') ? undefined : table.get('index.html'));
    if (!file) return errorResponse(new FlowError('ROUTE_NOT_FOUND', `no dashboard file ${rest.slice(0, 200)}`, { details: { method: 'GET', path: c.req.path.slice(0, 200) } }));
    const headers: Record<string, string> = { 'content-type': file.type, 'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache', vary: 'accept-encoding', ...(file.type.startsWith('text/html') ? PAGE_HEADERS : { 'x-content-type-options': 'nosniff' }) };
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      const gzipped = await (file.gzipped ??= gzip(file.body));
      if (gzipped) return new Response(gzipped, { headers: { ...headers, 'content-encoding': 'gzip', 'content-length': String(gzipped.byteLength) } });
    }
    return new Response(file.body, { headers: { ...headers, 'content-length': String(file.body.byteLength) } });
  });
}

/** Every file of the built folder, by its path relative to it; the page gets its `<base href>` and the API's path written in. */
async function readBuiltFolder(dir: string | URL, pageBase: string, apiBase: string): Promise<Map<string, StaticFile>> {
  const fs = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:fs/promises') as
    | { readdir(dir: string | URL, options: { recursive: true; withFileTypes: true }): Promise<{ name: string; parentPath: string; isFile(): boolean }[]>; readFile(path: string): Promise<Uint8Array<ArrayBuffer>> }
    | undefined;
  if (!fs) throw new FlowError('NOT_IMPLEMENTED', 'serving the dashboard needs node:fs (Node, Bun or Deno); serve dist/dashboard/ from your own host instead');
  const root = typeof dir === 'string' ? dir : decodeURIComponent(dir.pathname);
  let entries;
  try {
    entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw new FlowError('NOT_IMPLEMENTED', `the dashboard is not built (no ${root}): run npm run build`, { cause: error });
  }
  const table = new Map<string, StaticFile>();
  const prefix = root.replace(/\/+$/, '');
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = `${entry.parentPath.replace(/\/+$/, '')}/${entry.name}`;
    const relative = full.slice(prefix.length + 1).split(/[\\/]/).join('/');
    const ext = /\.[a-z0-9]+$/i.exec(relative)?.[0]?.toLowerCase() ?? '';
    let body = await fs.readFile(full);
    if (relative === 'index.html') body = new TextEncoder().encode(withMount(new TextDecoder().decode(body), pageBase, apiBase));
    table.set(relative, { body, type: TYPES[ext] ?? 'application/octet-stream', immutable: relative.startsWith('assets/') });
  }
  if (!table.has('index.html')) throw new FlowError('NOT_IMPLEMENTED', `the dashboard is not built (no index.html in ${root}): run npm run build`);
  return table;
}

function withMount(html: string, pageBase: string, apiBase: string): string {
  const attr = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return html.replace('<head>', `<head>\n    <base href="${attr(pageBase)}" />`).replace('<meta name="flowrun-api" content="" />', `<meta name="flowrun-api" content="${attr(apiBase)}" />`);
}

async function gzip(body: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer> | null> {
  if (typeof CompressionStream === 'undefined' || body.byteLength < 1024) return null;
  const stream = new Blob([body]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
