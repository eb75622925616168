/**
 * `flowrun worker`: executes runs of a store, with no HTTP — the other half of `flowrun serve
 * --no-worker`. Any number of workers (and API processes) share one PostgreSQL database: each run
 * is executed by one process at a time under a lease, and a worker that dies leaves its runs to
 * the others when their leases run out. Flows come from the store (deployed through the API or
 * `flowrun flows deploy`); modules from `--modules`, which every worker must load alike. SIGINT or
 * SIGTERM drains it: it claims nothing more, its runs go back to the store at their next step,
 * and after `--shutdown-timeout` those still in a step are stopped and handed back at once.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { createEngine } from '../../create-engine.js';
import { assumingModelResolver } from '../../core/engine/steps/model-resolver.js';
import { BUDGET_NAMES } from '../../core/budgets.js';
import type { CliIo } from '../cli-io.js';
import { parseCount, runCliAction } from '../remote-client.js';
import { PrometheusMetrics } from '../../metrics/prometheus-metrics.js';
import { listenWorkerProbes, type WorkerProbes } from '../worker-probes.js';
import { loadModules } from '../load-modules.js';
import { collectBudgetFlag, parseBudgetFlags } from '../parse-budget-flags.js';
import { DEFAULT_STORE_SPEC, openStoreSpec } from '../store-spec.js';
import { addLogOptions, loggerOf, type LogOptionValues } from '../log-options.js';
import { addRoleOptions, roleSettingsOf, type RoleOptionValues } from '../role-options.js';
import { isLoopbackHost, processSignals, withoutPassword, type ShutdownSignals } from './serve.js';

interface WorkerCommandOptions extends LogOptionValues, RoleOptionValues {
  store: string;
  metricsPort?: string;
  metricsHost: string;
  modules?: string;
  assume?: boolean;
  budget?: string[];
}

/** Adds `worker` to the program. */
export function registerWorkerCommand(program: Command, io: CliIo, setExit: (code: number) => void, signals: ShutdownSignals = processSignals): void {
  const command = program
    .command('worker')
    .description('execute runs of a store (no HTTP): run several beside `serve --no-worker` on one PostgreSQL')
    .option('-s, --store <spec>', 'where runs are kept: postgres://… (or sqlite:PATH shared with local processes)', process.env.FLOWRUN_STORE ?? DEFAULT_STORE_SPEC)
    .option('-m, --modules <file>', 'a JavaScript module whose exports map module identifiers to functions')
    .option('--assume', 'answer ask steps offline with their "assuming" values')
    .option('--budget <name=value>', `a budget of every run, repeatable (${BUDGET_NAMES.join(', ')}); see README "Budgets"`, collectBudgetFlag)
    .option('--metrics-port <port>', 'serve /metrics, /health and /ready (no credentials) on this port (0: any free one)')
    .option('--metrics-host <host>', 'interface of --metrics-port', '127.0.0.1');
  addLogOptions(addRoleOptions(command)).action((options: WorkerCommandOptions) => runCliAction('worker', io, setExit, () => workerCommand(options, io, signals)));
}

async function workerCommand(options: WorkerCommandOptions, io: CliIo, signals: ShutdownSignals): Promise<number> {
  const role = roleSettingsOf(options);
  const budgets = parseBudgetFlags(options.budget ?? []);
  const logger = loggerOf(options, io, { role: 'worker', pid: process.pid });
  const modules = options.modules ? await loadModules(options.modules) : {};
  const stores = openStoreSpec(options.store);
  const workerId = `worker-${hostname()}-${process.pid}`;
  const engine = createEngine({
    stores,
    modules,
    workerId,
    maxConcurrentRuns: role.maxConcurrentRuns,
    leaseMs: role.leaseMs,
    ...(role.retention ? { retention: role.retention } : {}),
    runtimeConfig: { logger, budgets, ...(options.assume ? { modelResolver: assumingModelResolver } : {}) },
  });
  const metrics = new PrometheusMetrics({ processMetrics: true });
  metrics.watch({ engine });
  let probes: WorkerProbes | null = null;
  try {
    await stores.ping(); // a store that cannot be reached (or migrated) fails the start, not the first poll
    io.out(`flowrun worker ${workerId} is executing runs of ${withoutPassword(options.store)} (concurrency ${role.maxConcurrentRuns})\n`);
    if (options.metricsPort !== undefined) {
      probes = await listenWorkerProbes({ host: options.metricsHost, port: parseCount(options.metricsPort, '--metrics-port', 0)!, store: stores, metrics });
      io.out(`metrics and probes: ${probes.url}/metrics ${probes.url}/health ${probes.url}/ready\n`);
      // They answer without a token (flow ids, run counts): beyond loopback, anyone who reaches the port reads them.
      if (!isLoopbackHost(options.metricsHost)) io.err(`flowrun worker: WARNING: /metrics on ${options.metricsHost} answers without a token: keep the port on a private network (or --metrics-host 127.0.0.1).\n`);
    }
    logger.info({ workerId, concurrency: role.maxConcurrentRuns, retentionDays: role.retention?.days ?? null }, 'worker started');
    // The engine's timers do not hold the process open (a library must not); the worker's life does.
    const alive = setInterval(() => undefined, 1 << 30);
    await new Promise<void>((resolve) => {
      const stopListening = signals.onShutdown(() => {
        stopListening();
        resolve();
      });
    });
    clearInterval(alive);
    logger.info({ workerId, shutdownTimeoutMs: role.drainMs }, 'worker draining');
    await engine.close({ drainMs: role.drainMs });
    io.out('flowrun worker: stopped\n');
    return 0;
  } finally {
    await probes?.close();
    await engine.close();
    await stores.close();
  }
}
