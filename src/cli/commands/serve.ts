/**
 * `flowrun serve`: the HTTP API, the dashboard (`/ui/`; `--no-dashboard` leaves it out; a sign-in
 * link with the admin token in its fragment is printed with a new token) and a worker over one store (the SQLite file under `.flowrun/`
 * by default, or `--store postgres://…`; `--no-worker`: the API alone, `flowrun worker` processes
 * executing the runs). At start it deploys and publishes every `.json` /
 * `.flow` flow of `--flows DIR` as the `admin` user (created if missing, and made a system
 * administrator: it sees and manages every run and flow, decides every approval and publishes
 * and subscribes to every event name). It prints a new API token of `admin` only when `admin` has no active token
 * (a fresh store) or `--new-admin-token` asks for one; later starts say how to make one. Binds to
 * 127.0.0.1 unless `--host` says otherwise, and warns when bound beyond loopback without
 * `--tls-cert`/`--tls-key`. Logs (a line per request, server errors, refused subscribers, lost
 * leases…) go to stderr through pino (`--log-level`, `--log-format json|pretty`). `--budget NAME=VALUE` (repeatable) sets the budgets of every run it executes
 * (INVALID_INPUT naming a bad one, before anything opens). `--globus-port PORT` also serves the Globus Flows
 * API over the same engine at the root of that port (`globus flows API: URL` on its own line). SIGINT or SIGTERM stops it gracefully: no new requests, open event
 * streams ended, requests in flight finished, then its runs drained back to the store within
 * `--shutdown-timeout` (see `worker`).
 */
import { readdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { extname, join } from 'node:path';
import type { Command } from 'commander';
import type { FlowDefinition, FlowSourceText } from '../../core/model.js';
import type { Store } from '../../core/store.js';
import { createEngine } from '../../create-engine.js';
import { assumingModelResolver } from '../../core/engine/steps/model-resolver.js';
import { serve } from '../../server/listen.js';
import { createGlobusFlowsHandler } from '../../server/globus/create-globus-flows-handler.js';
import type { CliIo } from '../cli-io.js';
import { issueApiToken, withPrincipalsOf } from '../admin-store.js';
import { addLogOptions, loggerOf } from '../log-options.js';
import { addRoleOptions, roleSettingsOf } from '../role-options.js';
import { describeError, parseCount, runCliAction, UsageError } from '../remote-client.js';
import { looksLikeFlow, readFlowFile } from '../flow-files.js';
import { loadModules } from '../load-modules.js';
import { collectBudgetFlag, parseBudgetFlags } from '../parse-budget-flags.js';
import { BUDGET_NAMES } from '../../core/budgets.js';
import { DEFAULT_STORE_SPEC, openStoreSpec } from '../store-spec.js';
import { PrometheusMetrics } from '../../metrics/prometheus-metrics.js';

/** The principal `serve` deploys as and issues its token to. */
export const ADMIN_USER = 'admin';

/**
 * How long a token `serve` mints stays valid (30 days). It is printed to a terminal or a log at
 * start, so it should not outlive a forgotten log file; when it has expired, the next start
 * mints another (and `flowrun tokens create --user admin` makes one at any time).
 */
export const ADMIN_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;

interface ServeCommandOptions {
  store: string;
  port: string;
  host: string;
  flows?: string;
  modules?: string;
  assume?: boolean;
  adminToken: boolean;
  newAdminToken?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  metrics: string;
  logLevel: string;
  logFormat?: string;
  budget?: string[];
  dashboard: boolean;
  globusPort?: string;
  worker: boolean;
  concurrency: string;
  shutdownTimeout: string;
  leaseMs: string;
  retentionDays?: string;
}

const METRICS_ACCESS = ['admin', 'open', 'off'] as const;

/** Adds `serve` to the program. */
export function registerServeCommand(program: Command, io: CliIo, setExit: (code: number) => void, signals: ShutdownSignals = processSignals): void {
  const command = program
    .command('serve')
    .description('serve the HTTP API and run flows: loads a flows folder, prints an admin token')
    .option('-s, --store <spec>', 'where runs are kept: sqlite:PATH, postgres://…', process.env.FLOWRUN_STORE ?? DEFAULT_STORE_SPEC)
    .option('-p, --port <port>', 'port to listen on (0: any free port)', process.env.PORT ?? '8080')
    .option('--host <host>', 'interface to bind (0.0.0.0 makes it reachable from other machines)', '127.0.0.1')
    .option('-f, --flows <dir>', 'deploy and publish the .json / .flow flows of this folder at start')
    .option('-m, --modules <file>', 'a JavaScript module whose exports map module identifiers to functions')
    .option('--assume', 'answer ask steps offline with their "assuming" values')
    .option('--no-admin-token', 'never issue an admin token at start')
    .option('--new-admin-token', 'issue a new admin token even if admin already has one')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--metrics <access>', 'who may read /metrics: admin, open (any authenticated principal) or off', 'admin')
    .option('--no-dashboard', 'do not serve the dashboard at /ui/')
    .option('--budget <name=value>', `a budget of every run, repeatable (${BUDGET_NAMES.join(', ')}); see README "Budgets"`, collectBudgetFlag)
    .option('--globus-port <port>', 'also serve the Globus Flows API at the root of this port (0: any free port); see README "Globus Flows clients"');
  // --no-worker: the API alone; `flowrun worker` processes over the same store execute the runs.
  command.option('--no-worker', 'serve the API without executing runs (run `flowrun worker` processes over the same store)');
  addLogOptions(addRoleOptions(command)).action((options: ServeCommandOptions) => runCliAction('serve', io, setExit, () => serveCommand(options, io, signals)));
}

/** How `serve` learns it should stop (the process's signals; tests pass their own). */
export interface ShutdownSignals {
  /** Calls `stop` once on the first SIGINT or SIGTERM; returns a function that stops listening. */
  onShutdown(stop: () => void): () => void;
}

/** SIGINT and SIGTERM of this process (also `worker`'s). */
export const processSignals: ShutdownSignals = {
  onShutdown(stop) {
    const handler = (): void => stop();
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  },
};

async function serveCommand(options: ServeCommandOptions, io: CliIo, signals: ShutdownSignals): Promise<number> {
  const port = parseCount(options.port, '--port', 0)!;
  if (port > 65_535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const globusPort = options.globusPort === undefined ? undefined : parseCount(options.globusPort, '--globus-port', 0)!;
  if (globusPort !== undefined && globusPort > 65_535) throw new UsageError(`--globus-port must be at most 65535, got ${globusPort}`);
  if (options.newAdminToken && !options.adminToken) throw new UsageError('--new-admin-token and --no-admin-token contradict each other');
  const metricsAccess = oneOf(options.metrics, METRICS_ACCESS, '--metrics');
  const role = roleSettingsOf(options);
  const logger = loggerOf(options, io, { role: options.worker ? 'api+worker' : 'api', pid: process.pid });
  const tls = await readTls(options);
  const budgets = parseBudgetFlags(options.budget ?? []);
  const flows = options.flows ? await readFlowFolder(options.flows, io) : [];
  const modules = options.modules ? await loadModules(options.modules) : {};
  const stores = openStoreSpec(options.store);
  const execution = options.worker ? { maxConcurrentRuns: role.maxConcurrentRuns, leaseMs: role.leaseMs } : { maxConcurrentRuns: 0, poll: false };
  const engine = createEngine({ stores, modules, ...execution, ...(role.retention ? { retention: role.retention } : {}), runtimeConfig: { logger, budgets, ...(options.assume ? { modelResolver: assumingModelResolver } : {}) } });
  // One registry per server (never prom-client's global one): engine, store and HTTP metrics at /metrics.
  const metrics = new PrometheusMetrics({ processMetrics: true });
  metrics.watch({ engine });
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  let globus: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    const token = await withPrincipalsOf(stores, async (principals) => {
      if (!(await stores.principals.getPrincipal(ADMIN_USER))) await principals.createUser({ id: ADMIN_USER, displayName: 'flowrun serve administrator' });
      // A system administrator (DESIGN.md §6): every run, flow, approval and event name; marking again is harmless.
      await principals.setAdministrator(ADMIN_USER, true);
      if (!options.adminToken) return null;
      const now = Date.now();
      if (!options.newAdminToken && (await hasActiveToken(stores, ADMIN_USER, now))) return null;
      return (await issueApiToken(stores, principals, { principalId: ADMIN_USER, description: 'flowrun serve', expiresAt: now + ADMIN_TOKEN_TTL_MS })).token;
    });
    for (const line of await deployAll(engine, flows)) io.out(`${line}\n`);
    server = await serve({ engine, port, hostname: options.host, logger, metrics: metricsAccess, observers: [metrics], metricsSource: metrics, administrators: [ADMIN_USER], dashboard: options.dashboard, ...(tls ? { tls } : {}) });
    io.out(`flowrun is serving ${server.url} (store ${withoutPassword(options.store)})\n`);
    if (globusPort !== undefined) {
      // The same engine and tokens behind the Globus Flows API, at the root of its own port (the SDKs drop a base path).
      globus = await serve({ router: createGlobusFlowsHandler({ engine, logger, observers: [metrics] }), port: globusPort, hostname: options.host, ...(tls ? { tls } : {}) });
      io.out(`globus flows API: ${globus.url}\n`);
    }
    const dashboard = `${server.url}/ui/`;
    if (options.dashboard) io.out(`dashboard: ${dashboard}\n`);
    if (!tls && !isLoopbackHost(options.host)) {
      io.err(
        `flowrun serve: WARNING: listening on ${options.host} without TLS: API tokens cross the network in clear text. ` +
          'Use --tls-cert/--tls-key, a TLS-terminating proxy, or --host 127.0.0.1.\n',
      );
    }
    if (token) {
      io.out(`admin token (shown once): ${token}\n  export FLOWRUN_SERVER=${server.url} FLOWRUN_TOKEN=${token}\n  (valid ${ADMIN_TOKEN_TTL_MS / 86_400_000} days)\n`);
      // The token rides in the fragment, which browsers never send to the server; the page takes it out of the address bar.
      if (options.dashboard) io.out(`  sign in to the dashboard: ${dashboard}#token=${token}\n`);
    } else if (options.adminToken) {
      io.out(
        `admin already has an API token (tokens are shown only once). For another one: flowrun tokens create --user ${ADMIN_USER} --store '${withoutPassword(options.store)}'` +
          ' (or restart with --new-admin-token)\n',
      );
    }
    await new Promise<void>((resolve) => {
      const stopListening = signals.onShutdown(() => {
        stopListening();
        resolve();
      });
    });
    io.out('flowrun: shutting down\n');
    await globus?.close();
    await server?.close();
    // Its runs go back to the store within --shutdown-timeout, for the next process to resume at once.
    if (options.worker) await engine.close({ drainMs: role.drainMs });
    return 0;
  } finally {
    await globus?.close();
    await server?.close();
    await engine.close();
    await stores.close();
  }
}

/** True when `principalId` holds a token that is neither revoked nor expired at `now`. */
async function hasActiveToken(stores: Store, principalId: string, now: number): Promise<boolean> {
  const tokens = await stores.principals.listTokens({ principalId });
  return tokens.some((t) => t.revokedAt === null && (t.expiresAt === null || t.expiresAt > now));
}

/** The PEM files of `--tls-cert` and `--tls-key`, both or neither. */
async function readTls(options: ServeCommandOptions): Promise<{ cert: Buffer; key: Buffer } | null> {
  if (!options.tlsCert && !options.tlsKey) return null;
  if (!options.tlsCert || !options.tlsKey) throw new UsageError('--tls-cert and --tls-key go together: give both PEM files');
  const read = async (file: string, option: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (error) {
      throw new UsageError(`${option} ${file}: ${(error as Error).message}`);
    }
  };
  return { cert: await read(options.tlsCert, '--tls-cert'), key: await read(options.tlsKey, '--tls-key') };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${option} must be one of ${allowed.join(', ')}, got "${value}"`);
}

/**
 * True when `host` is reachable from this machine only: `localhost`, 127.0.0.0/8, `::1` (also
 * written as IPv4-mapped `::ffff:127.x.y.z`). Every other address, `0.0.0.0` and `::` included, is not.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  if (isIP(v4) === 4) return v4.split('.')[0] === '127';
  if (isIP(bare) !== 6) return false;
  // The URL parser writes an IPv6 address in its shortest form: `0:0:0:0:0:0:0:1` → `[::1]`.
  const canonical = new URL(`http://[${bare}]`).hostname;
  return canonical === '[::1]' || canonical.startsWith('[::ffff:7f');
}

/** Deploys and publishes the flows as `admin`, retrying those that failed while others deployed (a flow may call one read after it). */
async function deployAll(engine: ReturnType<typeof createEngine>, flows: FolderFlow[]): Promise<string[]> {
  const lines: string[] = [];
  let pending = flows;
  while (pending.length > 0) {
    const failed: (FolderFlow & { error: unknown })[] = [];
    for (const flow of pending) {
      try {
        const ref = await engine.deployFlow(flow.definition, { deployedBy: ADMIN_USER, publish: true, ...(flow.source ? { source: flow.source } : {}) });
        lines.push(`deployed ${ref.id} version ${ref.version} from ${flow.path}`);
      } catch (error) {
        failed.push({ ...flow, error });
      }
    }
    if (failed.length === pending.length) {
      throw new UsageError(`cannot deploy:\n${failed.map((f) => `  ${f.path}: ${describeError(f.error)}`).join('\n')}`);
    }
    pending = failed;
  }
  return lines;
}

/** A flow read from the `--flows` folder, with its `.flow` text when it was compiled from one. */
interface FolderFlow {
  path: string;
  definition: FlowDefinition;
  source?: FlowSourceText;
}

/** The flows of a folder (not recursive); JSON files that are not flows are skipped with a note. */
async function readFlowFolder(dir: string, io: CliIo): Promise<FolderFlow[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => extname(n) === '.json' || extname(n) === '.flow').sort();
  } catch (error) {
    throw new UsageError(`--flows ${dir}: ${(error as Error).message}`);
  }
  const flows: FolderFlow[] = [];
  for (const name of names) {
    const { path, definition, source } = await readFlowFile(join(dir, name));
    if (looksLikeFlow(definition)) flows.push({ path, definition, ...(source ? { source } : {}) });
    else io.err(`(skipped ${path}: not a flow definition)\n`);
  }
  return flows;
}

/** A store spec fit to print: a connection string's password is replaced by `***`. */
export function withoutPassword(spec: string): string {
  return spec.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
