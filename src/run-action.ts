/**
 * `runAction`: run a flow's action in-process, with no transport (seed 002).
 */
import type { Engine } from './core/engine/engine.js';
import type { ExecutionResult, RunActionOptions, RuntimeConfig } from './core/engine/types.js';
import type { Store } from './core/store.js';
import { createEngine } from './create-engine.js';

/** Options of {@link runAction}: the run's options plus the stores and instance configuration. */
export interface RunActionInput extends RunActionOptions {
  stores: Store;
  runtimeConfig?: RuntimeConfig;
}

const enginesByStore = new WeakMap<Store, WeakMap<RuntimeConfig, Engine>>();
const noConfig: RuntimeConfig = {};

/**
 * Runs an action to completion and returns `{requestId, status, output, items, durationMs, error}`.
 * `userId` is trusted as given: verify it before calling. The run is durable in `stores` either
 * way; without `await` it is fire-and-forget (attach a `.catch`). `onItem` sees every item
 * added / updated / done, transient ones included; `onOutput(name, snapshot)` sees the returned
 * outputs (streamable ones while the run goes on, all of them at its end); a throwing listener
 * never breaks the run.
 * Resolves with `error` set when the run fails; rejects only when it cannot be started or recorded.
 *
 * One engine is kept per (stores, runtimeConfig) pair so runs started here — and the children and
 * launches they start — keep executing after this call returns.
 */
export function runAction(options: RunActionInput): Promise<ExecutionResult> {
  const { stores, runtimeConfig, ...runOptions } = options;
  let byConfig = enginesByStore.get(stores);
  if (!byConfig) enginesByStore.set(stores, (byConfig = new WeakMap()));
  const key = runtimeConfig ?? noConfig;
  let engine = byConfig.get(key);
  if (!engine) byConfig.set(key, (engine = createEngine({ stores, ...(runtimeConfig ? { runtimeConfig } : {}) })));
  return engine.runAction(runOptions);
}
