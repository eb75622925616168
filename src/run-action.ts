/**
 * `runAction`: run a flow's action in-process, with no transport (seed 002).
 */
import type { Engine } from './core/engine/engine.js';
import type { ExecutionResult, RunActionOptions, RuntimeConfig, TypedRunOptions } from './core/engine/types.js';
import type { ActionName, ActionOutput, DefaultActionName } from './core/flow-types.js';
import type { FlowDefinition } from './core/model.js';
import type { Store } from './core/store.js';
import { createEngine } from './create-engine.js';

/** Options of {@link runAction}: the run's options plus the stores and instance configuration. */
export interface RunActionInput extends RunActionOptions {
  stores: Store;
  runtimeConfig?: RuntimeConfig;
}

/** {@link RunActionInput} typed by its flow `F` and action `A` (see `TypedRunOptions`). */
export type TypedRunActionInput<F, A extends ActionName<F>> = TypedRunOptions<RunActionInput, F, A>;

const enginesByStore = new WeakMap<Store, WeakMap<RuntimeConfig, Engine>>();
const noConfig: RuntimeConfig = {};

/**
 * Runs an action to completion and returns `{requestId, status, output, items, durationMs, error}`.
 * With a flow written with `defineFlow`, `actionName` and `input` are checked by the compiler and
 * `output` is typed (`ActionOutput`); a flow id or a definition loaded at run time is checked when the run starts.
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
export function runAction<F extends FlowDefinition | string, A extends ActionName<F> = DefaultActionName<F> & ActionName<F>>(
  options: TypedRunActionInput<F, A>,
): Promise<ExecutionResult<ActionOutput<F, A>>> {
  const { stores, runtimeConfig, ...runOptions } = options as RunActionInput;
  let byConfig = enginesByStore.get(stores);
  if (!byConfig) enginesByStore.set(stores, (byConfig = new WeakMap()));
  const key = runtimeConfig ?? noConfig;
  let engine = byConfig.get(key);
  if (!engine) byConfig.set(key, (engine = createEngine({ stores, ...(runtimeConfig ? { runtimeConfig } : {}) })));
  return engine.runAction(runOptions) as Promise<ExecutionResult<ActionOutput<F, A>>>;
}
