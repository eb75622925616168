/**
 * The one place that listens on a Node socket: `serve()` puts a router (or a new one over an
 * engine) on a port with `@hono/node-server`, and closes gracefully.
 */
import type { AddressInfo } from 'node:net';
import { createFlowApiRouter, type FlowApiRouter, type FlowApiRouterOptions } from './create-flow-api-router.js';
import type { FlowApiEngine } from './router-context.js';

/** Options of {@link serve}: a router, or an engine (and router options) to build one. */
export type ServeOptions = ({ router: FlowApiRouter } | ({ engine: FlowApiEngine } & Omit<FlowApiRouterOptions, 'engine'>)) & {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1 (not reachable from other machines). */
  hostname?: string;
  /**
   * Serve HTTPS with this PEM certificate (chain) and private key instead of plain HTTP. Needed
   * whenever the server is reachable beyond loopback without a TLS-terminating proxy in front:
   * bearer tokens travel in every request.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** How long `close()` lets requests in flight finish before it drops their connections (default 5,000 ms). */
  closeGraceMs?: number;
};

/** A listening server. */
export interface RunningServer {
  /** `http://host:port` (or `https://…` with `tls`) it listens on. */
  url: string;
  port: number;
  router: FlowApiRouter;
  /**
   * Stops accepting connections, ends every event stream, lets requests in flight finish (up to
   * `closeGraceMs`), then drops what is left. Does not close the engine.
   */
  close(): Promise<void>;
}

/** Listens on `hostname:port` and answers with the router. Resolves once it is listening. */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const router = 'router' in options ? options.router : createFlowApiRouter(options);
  const hostname = options.hostname ?? '127.0.0.1';
  // Loaded on use: importing `flowrun/server` for its fetch handler (Next.js, Bun, Deno, edge) loads no node:http.
  const { serve: listen } = await import('@hono/node-server');
  const secure = options.tls ? { createServer: (await import('node:https')).createServer, serverOptions: { cert: options.tls.cert, key: options.tls.key } } : {};
  return new Promise((resolve, reject) => {
    // A cached answer is written in the request's own turn: no promise for the adapter to await.
    const answerNow = router.answerNow;
    const fetch = answerNow ? (request: Request) => answerNow(request) ?? router.fetch(request) : router.fetch;
    const server = listen({ fetch, port: options.port ?? 0, hostname, ...secure }, (info: AddressInfo) => {
      server.off('error', reject);
      const host = info.family === 'IPv6' || info.address.includes(':') ? `[${info.address}]` : info.address;
      let closing: Promise<void> | null = null;
      resolve({
        url: `${options.tls ? 'https' : 'http'}://${host}:${info.port}`,
        port: info.port,
        router,
        close: () =>
          (closing ??= new Promise<void>((done) => {
            const http = server as import('node:http').Server;
            const timer = setTimeout(() => http.closeAllConnections?.(), options.closeGraceMs ?? 5_000);
            // A keep-alive connection becomes idle only once its last response ended (an ended
            // event stream, a finished request): drop idle ones as they appear, not after the keep-alive timeout.
            const sweeper = setInterval(() => http.closeIdleConnections?.(), 25);
            http.close(() => {
              clearTimeout(timer);
              clearInterval(sweeper);
              done();
            });
            router.close();
            http.closeIdleConnections?.();
          })),
      });
    });
    server.once('error', reject);
  });
}
