/**
 * A private Restate server for one measurement: the binary of the npm package
 * @restatedev/restate-server (its platform sub-package under bench/node_modules, or RESTATE_BIN),
 * started on free local ports with its data in a folder of the caller's, and stopped by the
 * same process — killed when that process exits, so no server outlives its measurement.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeerSkipped } from './peer-workloads.js';

/** A running server: where to send invocations and deployments, and how to stop it. */
export interface RestateServer {
  ingressUrl: string;
  adminUrl: string;
  version: string;
  stop(): Promise<void>;
}

/** The server binary, or a {@link PeerSkipped} saying why there is none. */
function restateBinary(): { path: string; version: string } {
  const pkg = `@restatedev/restate-server-${process.platform}-${process.arch}`;
  const dir = fileURLToPath(new URL(`./node_modules/${pkg}/`, import.meta.url));
  const path = process.env.RESTATE_BIN ?? join(dir, 'bin', 'restate-server');
  if (!existsSync(path)) {
    throw new PeerSkipped(process.env.RESTATE_BIN ? `RESTATE_BIN=${path} does not exist` : `no Restate server binary at ${path} (npm package ${pkg} not installed: npm ci --prefix bench)`);
  }
  const version = existsSync(join(dir, 'package.json')) ? (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version : 'unknown';
  return { path, version };
}

/** A TCP port free on 127.0.0.1 right now (another process may take it before it is bound again). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts a server with its data under `dataDir` and waits until its admin API answers (30 s at most). */
export async function startRestateServer(dataDir: string): Promise<RestateServer> {
  const binary = restateBinary();
  const [ingress, admin, fabric, pgsql] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const log = createWriteStream(join(dataDir, 'restate.log'));
  const child: ChildProcess = spawn(binary.path, ['--no-logo', '--base-dir', join(dataDir, 'data'), '--listen-mode', 'tcp'], {
    env: {
      ...process.env,
      RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
      RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
      RESTATE_BIND_ADDRESS: `127.0.0.1:${fabric}`,
      RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${fabric}/`,
      RESTATE_ADMIN__QUERY_ENGINE__PGSQL_BIND_ADDRESS: `127.0.0.1:${pgsql}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  let exited = false;
  child.once('exit', () => (exited = true));
  const adminUrl = `http://127.0.0.1:${admin}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new PeerSkipped(`the Restate server exited at start (see ${join(dataDir, 'restate.log')})`);
    try {
      if ((await fetch(`${adminUrl}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      kill();
      throw new PeerSkipped('the Restate server did not answer within 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    ingressUrl: `http://127.0.0.1:${ingress}`,
    adminUrl,
    version: binary.version,
    stop: async () => {
      process.off('exit', kill);
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
