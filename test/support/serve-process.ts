/**
 * A real `flowrun serve` in its own process (the CLI run from source, no build), on a free port
 * over a SQLite file or a PostgreSQL schema, for tests and benchmarks that attack it the way a
 * user with a token would: over HTTP only. It reads the URL and the admin token the server
 * prints, makes API tokens for other principals with the CLI against the same store, and reports
 * the server's resident memory (current and peak) from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runFlowrunCli } from './run-cli.js';

const root = resolve(import.meta.dirname, '../..');

/** A running `flowrun serve` process. */
export interface ServeProcess {
  readonly url: string;
  readonly adminToken: string | null;
  readonly pid: number;
  /** The `--store` spec it serves (give it to CLI commands that act on the same store). */
  readonly store: string;
  /** Everything it printed so far. */
  output(): string;
  /** What it wrote to stderr alone (its log lines, warnings). */
  logs(): string;
  /** Resident set size now and at its peak (VmRSS, VmHWM), in MB; null once it exited. */
  memoryMb(): { rss: number; peak: number } | null;
  /** A `fetch` of `path` on this server acting with `token`; `body` is sent as JSON. */
  request(method: string, path: string, options?: { token?: string | null; body?: unknown; signal?: AbortSignal }): Promise<Response>;
  /** The same, reading the JSON answer. */
  json<T = any>(method: string, path: string, options?: { token?: string | null; body?: unknown }): Promise<{ status: number; body: T }>;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | string>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<number | string>;
}

/** A fresh SQLite store spec in a new temporary folder. */
export function freshSqliteSpec(): string {
  return `sqlite:${join(mkdtempSync(join(tmpdir(), 'flowrun-serve-')), 'flowrun.db')}`;
}

/**
 * Starts `flowrun serve --store STORE --port 0 ARGS` and resolves once it prints that it is
 * serving (rejects with its output when it exits first or takes longer than `timeoutMs`).
 */
export async function startServeProcess(options: { store: string; args?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number; umask?: string }): Promise<ServeProcess> {
  const argv = [process.execPath, '--import', 'tsx', 'test/support/flowrun-cli.ts', 'serve', '--store', options.store, '--port', '0', ...(options.args ?? [])];
  // With `umask`, through a shell that sets it and then becomes the server (exec keeps the pid).
  const [command, ...args] = options.umask === undefined ? argv : ['/bin/sh', '-c', `umask ${options.umask} && exec "$@"`, 'sh', ...argv];
  const child = spawn(command!, args, {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let logs = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    logs += chunk.toString();
  });
  const exited = new Promise<number | string>((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? signal ?? 'unknown')));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`flowrun serve did not start within ${options.timeoutMs ?? 30_000} ms:\n${output}`)), options.timeoutMs ?? 30_000);
    const check = (): void => {
      const match = /flowrun is serving (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`flowrun serve exited (${code}) before serving:\n${output}`));
    });
  });
  // The token line (on a store that had no admin token) follows the serving line, maybe in a later chunk.
  for (let i = 0; i < 20 && !/frt_[A-Za-z0-9_-]+\s/.test(output) && !/token/i.test(output.slice(output.indexOf('flowrun is serving'))); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const adminToken = /(frt_[A-Za-z0-9_-]+)/.exec(output)?.[1] ?? null;
  return serveProcess(child, { url, adminToken, store: options.store, output: () => output, logs: () => logs, exited });
}

function serveProcess(child: ChildProcess, s: { url: string; adminToken: string | null; store: string; output: () => string; logs: () => string; exited: Promise<number | string> }): ServeProcess {
  const request: ServeProcess['request'] = (method, path, o = {}) => {
    const headers: Record<string, string> = {};
    const token = o.token === undefined ? s.adminToken : o.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${s.url}${path}`, { method, headers, ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  };
  return {
    url: s.url,
    adminToken: s.adminToken,
    pid: child.pid!,
    store: s.store,
    output: s.output,
    logs: s.logs,
    exited: s.exited,
    memoryMb() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
        return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
      } catch {
        return null;
      }
    },
    request,
    async json(method, path, o) {
      const response = await request(method, path, o);
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      child.kill('SIGTERM');
      return s.exited;
    },
    async kill() {
      child.kill('SIGKILL');
      return s.exited;
    },
  };
}

/** Creates `principalId` (a user unless `serviceAccount`) if missing and returns a new API token of it, with the CLI against `store`. */
export async function issueToken(store: string, principalId: string, options: { serviceAccount?: boolean } = {}): Promise<string> {
  const result = await runFlowrunCli(['tokens', 'create', '--user', principalId, '--store', store, '--json', ...(options.serviceAccount ? ['--service-account'] : [])]);
  if (result.code !== 0) throw new Error(`tokens create ${principalId} failed (${result.code}): ${result.stderr}${result.stdout}`);
  return (JSON.parse(result.stdout) as { token: string }).token;
}
