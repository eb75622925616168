/**
 * A TCP proxy in front of PostgreSQL that a test cuts and restores on the same port: the database
 * "goes away" for the processes connected through it, and only for them (the shared server and
 * the other tests on it are never touched).
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';

/** Forwards connections on `port` (any free one at the first start) to `target`. */
export class CuttableProxy {
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  /** The database "goes away": open connections drop and new ones are refused. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}

/** `url` (a PostgreSQL connection string) with its port replaced by the proxy's. */
export function throughProxy(url: string, proxy: CuttableProxy): string {
  const via = new URL(url);
  via.port = String(proxy.port);
  return via.toString();
}
