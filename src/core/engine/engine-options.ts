/**
 * The options of the engine (engine.ts), apart so the composing file stays about composing.
 */
import type { Clock, IdSource } from '../clock.js';
import type { Store } from '../store.js';
import type { Tracing } from '../tracing.js';
import type { RetentionPolicy } from './execution/retention.js';
import type { EngineObserver } from './engine-observer.js';
import type { ModuleRegistration, RuntimeConfig } from './types.js';

/** Options of {@link Engine}. Time and ids are injected (see `createEngine` for defaults). */
export interface EngineOptions {
  stores: Store;
  clock: Clock;
  ids: IdSource;
  runtimeConfig?: RuntimeConfig;
  /** Modules, merged over `runtimeConfig.modules`: functions or `{input, output, run}` definitions. */
  modules?: Record<string, ModuleRegistration>;
  /** Name of this engine in leases. Default: a new id. */
  workerId?: string;
  /** How long a claim lasts without a heartbeat (default 30,000 ms). */
  leaseMs?: number;
  /** How often to look for runs to resume (other processes' expired leases, due timers). Default 1,000 ms. */
  pollIntervalMs?: number;
  /** Runs executed at once by this engine (default 256); 0 executes none (an API process: workers over the same store do). */
  maxConcurrentRuns?: number;
  /** Look for claimable runs in the background (default true). */
  poll?: boolean;
  /** Fire due schedules in the background (default: when `poll` is on). */
  schedules?: boolean;
  /** Delete ended runs older than `retention.days`, in batches, in the background. */
  retention?: RetentionPolicy;
  /** Told of runs started and ended, step visits and lost leases (metrics, tracing); more with `observers.add`. */
  observers?: readonly EngineObserver[];
  /** Traces runs, steps and store commits (`createEngine` passes OpenTelemetry's when `@opentelemetry/api` is installed; see core/tracing.ts). */
  tracing?: Tracing;
}
