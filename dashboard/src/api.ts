/**
 * Where the dashboard finds the API, and the client it talks to it with. The server that serves
 * the page writes the API's path into `<meta name="flowrun-api">` (empty: the site's root) and a
 * `<base href>` naming where the dashboard itself is mounted.
 */
import { createClient, type FlowClient } from '../../src/client/index.js';

/** The API's base URL: this origin plus the path the serving router announced. */
export function apiBaseUrl(): string {
  const path = document.querySelector('meta[name="flowrun-api"]')?.getAttribute('content') ?? '';
  return new URL(path.replace(/\/+$/, '') || '/', window.location.origin).toString().replace(/\/$/, '');
}

/** The path the dashboard is mounted at, without a trailing slash (`/ui`), for the router. */
export function dashboardBasePath(): string {
  return new URL(document.baseURI).pathname.replace(/\/+$/, '');
}

/** A client of the API acting with `token`. */
export function clientFor(token: string): FlowClient {
  return createClient({ baseUrl: apiBaseUrl(), token, timeoutMs: 30_000 });
}
