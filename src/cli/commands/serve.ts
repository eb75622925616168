/**
 * `flowrun serve`: the HTTP API and a worker over one store (the SQLite file under `.flowrun/`
 * by default, or `--store postgres://…`). At start it deploys and publishes every `.json` /
 * `.flow` flow of `--flows DIR` as the `admin` user (created if missing), so `admin`
 * administers them, and prints a new API token of `admin` once. Binds to 127.0.0.1 unless
 * `--host` says otherwise; `--budget NAME=VALUE` (repeatable) sets the budgets of every run it
 * executes (INVALID_INPUT naming a bad one, before anything opens). SIGINT or SIGTERM stops it gracefully: no new requests, open event
 * streams ended, requests in flight finished, the engine closed (runs in flight finish their
 * current transition or are resumed by the next engine over the store).
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Command } from 'commander';
import type { FlowDefinition } from '../../core/model.js';
import { createEngine } from '../../create-engine.js';
import { assumingModelResolver } from '../../core/engine/steps/model-resolver.js';
import { serve } from '../../server/listen.js';
import type { CliIo } from '../cli-io.js';
import { issueApiToken, withPrincipalsOf } from '../admin-store.js';
import { describeError, parseCount, runCliAction, UsageError } from '../remote-client.js';
import { looksLikeFlow, readFlowFile } from '../flow-files.js';
import { loadModules } from '../load-modules.js';
import { collectBudgetFlag, parseBudgetFlags } from '../parse-budget-flags.js';
import { BUDGET_NAMES } from '../../core/budgets.js';
import { DEFAULT_STORE_SPEC, openStoreSpec } from '../store-spec.js';

/** The principal `serve` deploys as and issues its token to. */
export const ADMIN_USER = 'admin';

interface ServeCommandOptions {
  store: string;
  port: string;
  host: string;
  flows?: string;
  modules?: string;
  assume?: boolean;
  adminToken: boolean;
  budget?: string[];
}

/** Adds `serve` to the program. */
export function registerServeCommand(program: Command, io: CliIo, setExit: (code: number) => void, signals: ShutdownSignals = processSignals): void {
  program
    .command('serve')
    .description('serve the HTTP API and run flows: loads a flows folder, prints an admin token')
    .option('-s, --store <spec>', 'where runs are kept: sqlite:PATH, postgres://…', process.env.FLOWRUN_STORE ?? DEFAULT_STORE_SPEC)
    .option('-p, --port <port>', 'port to listen on (0: any free port)', process.env.PORT ?? '8080')
    .option('--host <host>', 'interface to bind (0.0.0.0 makes it reachable from other machines)', '127.0.0.1')
    .option('-f, --flows <dir>', 'deploy and publish the .json / .flow flows of this folder at start')
    .option('-m, --modules <file>', 'a JavaScript module whose exports map module identifiers to functions')
    .option('--assume', 'answer ask steps offline with their "assuming" values')
    .option('--no-admin-token', 'do not issue an admin token at start')
    .option('--budget <name=value>', `a budget of every run, repeatable (${BUDGET_NAMES.join(', ')}); see README "Budgets"`, collectBudgetFlag)
    .action((options: ServeCommandOptions) => runCliAction('serve', io, setExit, () => serveCommand(options, io, signals)));
}

/** How `serve` learns it should stop (the process's signals; tests pass their own). */
export interface ShutdownSignals {
  /** Calls `stop` once on the first SIGINT or SIGTERM; returns a function that stops listening. */
  onShutdown(stop: () => void): () => void;
}

const processSignals: ShutdownSignals = {
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
  const budgets = parseBudgetFlags(options.budget ?? []);
  const flows = options.flows ? await readFlowFolder(options.flows, io) : [];
  const modules = options.modules ? await loadModules(options.modules) : {};
  const stores = openStoreSpec(options.store);
  const engine = createEngine({ stores, modules, runtimeConfig: { budgets, ...(options.assume ? { modelResolver: assumingModelResolver } : {}) } });
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    const token = await withPrincipalsOf(stores, async (principals) => {
      if (!(await stores.principals.getPrincipal(ADMIN_USER))) await principals.createUser({ id: ADMIN_USER, displayName: 'flowrun serve administrator' });
      return options.adminToken ? (await issueApiToken(stores, principals, { principalId: ADMIN_USER, description: 'flowrun serve' })).token : null;
    });
    for (const line of await deployAll(engine, flows)) io.out(`${line}\n`);
    server = await serve({ engine, port, hostname: options.host });
    io.out(`flowrun is serving ${server.url} (store ${withoutPassword(options.store)})\n`);
    if (token) io.out(`admin token (shown once): ${token}\n  export FLOWRUN_SERVER=${server.url} FLOWRUN_TOKEN=${token}\n`);
    await new Promise<void>((resolve) => {
      const stopListening = signals.onShutdown(() => {
        stopListening();
        resolve();
      });
    });
    io.out('flowrun: shutting down\n');
    return 0;
  } finally {
    await server?.close();
    await engine.close();
    await stores.close();
  }
}

/** Deploys and publishes the flows as `admin`, retrying those that failed while others deployed (a flow may call one read after it). */
async function deployAll(engine: ReturnType<typeof createEngine>, flows: { path: string; definition: FlowDefinition }[]): Promise<string[]> {
  const lines: string[] = [];
  let pending = flows;
  while (pending.length > 0) {
    const failed: { path: string; definition: FlowDefinition; error: unknown }[] = [];
    for (const flow of pending) {
      try {
        const ref = await engine.deployFlow(flow.definition, { deployedBy: ADMIN_USER, publish: true });
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

/** The flows of a folder (not recursive); JSON files that are not flows are skipped with a note. */
async function readFlowFolder(dir: string, io: CliIo): Promise<{ path: string; definition: FlowDefinition }[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => extname(n) === '.json' || extname(n) === '.flow').sort();
  } catch (error) {
    throw new UsageError(`--flows ${dir}: ${(error as Error).message}`);
  }
  const flows: { path: string; definition: FlowDefinition }[] = [];
  for (const name of names) {
    const { path, definition } = await readFlowFile(join(dir, name));
    if (looksLikeFlow(definition)) flows.push({ path, definition });
    else io.err(`(skipped ${path}: not a flow definition)\n`);
  }
  return flows;
}

/** A store spec fit to print: a connection string's password is replaced by `***`. */
export function withoutPassword(spec: string): string {
  return spec.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
