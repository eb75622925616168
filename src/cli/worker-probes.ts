/**
 * The small HTTP listener of `flowrun worker --metrics-port`: `GET /metrics` (Prometheus text, no
 * credentials — bind it where only the scraper reaches), `GET /health` (the process answers) and
 * `GET /ready` (the store answers, 503 otherwise). Nothing else: a worker serves no API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from '../core/store.js';
import type { MetricsSource } from '../server/request-observer.js';

/** A listening probe server. */
export interface WorkerProbes {
  url: string;
  close(): Promise<void>;
}

/** Listens on `host:port` (0: any free port) with the three routes. */
export async function listenWorkerProbes(options: { host: string; port: number; store: Store; metrics: MetricsSource }): Promise<WorkerProbes> {
  const server: Server = createServer((request, response) => {
    const answer = (status: number, body: string, type = 'application/json'): void => void response.writeHead(status, { 'content-type': type }).end(body);
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') return answer(405, '{"error":{"code":"METHOD_NOT_ALLOWED","message":"GET only","details":{}}}');
    if (path === '/health') return answer(200, '{"ok":true}');
    if (path === '/ready') {
      return void options.store.ping().then(
        () => answer(200, '{"ok":true}'),
        () => answer(503, '{"error":{"code":"STORE_ERROR","message":"not ready: the store does not answer","details":{}}}'),
      );
    }
    if (path === '/metrics') {
      return void options.metrics.metrics().then(
        (text) => answer(200, text, options.metrics.contentType),
        () => answer(500, '{"error":{"code":"INTERNAL","message":"metrics unavailable","details":{}}}'),
      );
    }
    answer(404, '{"error":{"code":"ROUTE_NOT_FOUND","message":"a worker serves /metrics, /health and /ready only","details":{}}}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
