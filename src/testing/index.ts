/**
 * `flowrun/testing`: exercise one module or one step without writing a flow around it (seed 002:
 * execution is a flow-level concern; testing a single block is this package's job).
 */
import { CanceledError, FlowError, toFlowError } from '../core/errors.js';
import type { FlowDefinition, StepDefinition } from '../core/model.js';
import type { Item, LogEntry, RunRecord } from '../core/run.js';
import type { ItemHandle, Module, ModuleContext, ModuleRegistration } from '../core/engine/types.js';
import { toModules } from '../core/engine/define-module.js';
import { Engine } from '../core/engine/engine.js';
import { createMemoryStores } from '../store/memory/memory-store.js';
import { createManualClock, createSequentialIds, type ManualClock } from './manual-clock.js';

export { createManualClock, createSequentialIds, type ManualClock } from './manual-clock.js';
export { createVirtualClock, type VirtualClock, type VirtualClockOptions } from './virtual-clock.js';
export { createFlowTest, type FlowTest, type FlowTestOptions, type LedgerMatch, type ModelMock, type ModuleCall, type StepVisit } from './flow-test.js';

/** What a module did when tested alone. */
export interface ModuleTestResult {
  output: unknown;
  error?: FlowError;
  logs: LogEntry[];
  /** Every item state the module emitted, transient ones included, in order of change. */
  itemChanges: { change: 'added' | 'updated' | 'done'; item: Item }[];
  /** The final state of each item. */
  items: Item[];
  /** Outputs the module wrote with `ctx.write` / `ctx.append`, in their final state. */
  outputs: Record<string, unknown>;
}

/** Options of {@link testModule}. */
export interface TestModuleOptions {
  settings?: Record<string, unknown>;
  signal?: AbortSignal;
  runId?: string;
  stepId?: string;
  attempt?: number;
  idempotencyKey?: string;
  clock?: ManualClock;
}

/**
 * Calls a module once with a fake context and records what it did: its output or error, its log
 * entries and items. Nothing is stored.
 *
 * @example
 * const result = await testModule(chargeCard, { amount: 12 });
 * expect(result.output).toEqual({ ok: true });
 */
export async function testModule(registration: ModuleRegistration, input: Record<string, unknown>, options: TestModuleOptions = {}): Promise<ModuleTestResult> {
  // A definition object is checked and typed as the engine would run it (defineModule).
  const module: Module = toModules({ module: registration }).module!;
  const clock = options.clock ?? createManualClock();
  const ids = createSequentialIds();
  const runId = options.runId ?? 'test-run';
  const stepId = options.stepId ?? 'test-step';
  const logs: LogEntry[] = [];
  const itemChanges: ModuleTestResult['itemChanges'] = [];
  const items = new Map<string, Item>();
  const outputs: Record<string, unknown> = {};
  const record = (change: 'added' | 'updated' | 'done', item: Item): void => {
    itemChanges.push({ change, item: { ...item } });
    items.set(item.id, { ...item });
  };
  const ctx: ModuleContext = {
    runId,
    stepId,
    flowId: 'test/flow',
    signal: options.signal ?? new AbortController().signal,
    idempotencyKey: options.idempotencyKey ?? `${runId}:0:${stepId}`,
    attempt: options.attempt ?? 1,
    settings: Object.freeze({ ...options.settings }),
    log: (code, description, details) => void logs.push({ time: clock.now(), code, description, ...(details ? { details } : {}) }),
    write: (name, value) => void (outputs[name] = structuredClone(value)),
    append(name, element) {
      const list = outputs[name] ?? [];
      if (!Array.isArray(list)) throw new FlowError('INVALID_OUTPUT', `ctx.append("${name}"): output "${name}" is not a list`);
      outputs[name] = [...list, structuredClone(element)];
    },
    emitItem(spec): ItemHandle {
      const item: Item = {
        id: ids.newId(),
        type: spec.type,
        status: 'in_progress',
        content: spec.content ?? null,
        transient: spec.transient === true,
        runId,
        stepId,
        createdAt: clock.now(),
        updatedAt: clock.now(),
      };
      record('added', item);
      return {
        id: item.id,
        update(content) {
          if (item.status === 'done') return;
          item.content = content;
          record('updated', item);
        },
        done(content) {
          if (item.status === 'done') return;
          if (content !== undefined) item.content = content;
          item.status = 'done';
          record('done', item);
        },
      };
    },
  };
  try {
    if (ctx.signal.aborted) throw new CanceledError('the signal was aborted before the module ran');
    const output = await module(input, ctx);
    return { output: output === undefined ? null : output, logs, itemChanges, items: [...items.values()], outputs };
  } catch (error) {
    return { output: null, error: toFlowError(error, 'MODULE_FAILED'), logs, itemChanges, items: [...items.values()], outputs };
  }
}

/** The context a tested step starts from. */
export interface TestStepContext {
  input?: Record<string, unknown>;
  vars?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

/** What a step did when run alone. */
export interface StepTestResult {
  status: RunRecord['status'];
  /** The step's output (`steps.<id>`), or null when it failed. */
  output: unknown;
  error?: FlowError;
  /** The step the flow would go to next (null: the frame would end). */
  next: string | null;
  vars: Record<string, unknown>;
  outputs: Record<string, unknown>;
  logs: LogEntry[];
  items: Item[];
  /** The run the step executed in (memory store), to inspect children, ledger, … */
  run: RunRecord;
  engine: Engine;
}

/** Options of {@link testStep}. */
export interface TestStepOptions {
  context?: TestStepContext;
  modules?: Record<string, ModuleRegistration>;
  /** Other flows the step may call (RUN_FLOW / START_FLOW_EXECUTION), deployed and published first. */
  flows?: FlowDefinition[];
  /** Subflows the step may `run` or `goto`. */
  subflows?: FlowDefinition['subflows'];
  clock?: ManualClock;
}

/**
 * Runs one step, on a real engine over a memory store and a manual clock, starting from the
 * given context. The step's `defaultNextStepInstanceId` and transitions are reported as `next`
 * instead of being followed.
 *
 * @example
 * const r = await testStep({ stepType: 'COMPUTE', expression: '{total: input.qty * 2}' }, { context: { input: { qty: 3 } } });
 * expect(r.output).toEqual({ total: 6 });
 */
export async function testStep(step: StepDefinition, options: TestStepOptions = {}): Promise<StepTestResult> {
  const clock = options.clock ?? createManualClock();
  const stores = createMemoryStores();
  const engine = new Engine({ stores, clock, ids: createSequentialIds(), modules: options.modules ?? {}, runtimeConfig: { settings: options.context?.settings ?? {} }, poll: false });
  for (const flow of options.flows ?? []) await engine.deployFlow(flow, { publish: true });
  const context = options.context ?? {};
  // The step's successors are not part of the test: they become `next` instead.
  const { defaultNextStepInstanceId, ...alone } = step as StepDefinition & { defaultNextStepInstanceId?: string };
  const transitions = step.stepType === 'DECIDE' ? step.transitions : [];
  const successors = new Set([defaultNextStepInstanceId, ...transitions.map((t) => t.nextStepInstanceId), ...(step.catch ?? []).map((c) => c.next)].filter((s): s is string => !!s));
  const terminals = Object.fromEntries([...successors].map((id) => [id, { stepType: 'SUCCEED' as const }]));
  const under = step.stepType === 'DECIDE' ? step : defaultNextStepInstanceId ? { ...alone, defaultNextStepInstanceId } : alone;
  const flow: FlowDefinition = {
    id: 'test/step',
    vars: Object.fromEntries(Object.entries(context.vars ?? {}).map(([k, v]) => [k, { default: v }])),
    actions: {
      main: {
        outputs: Object.fromEntries(Object.entries(context.outputs ?? {}).map(([k, v]) => [k, { default: v }])),
        startAt: '__step',
        steps: { __step: { ...under, stepInstanceId: '__step' } as StepDefinition, ...terminals },
      },
    },
    ...(options.subflows ? { subflows: options.subflows } : {}),
  };
  const runPromise = engine.runAction({ flow, input: context.input ?? {}, userId: 'test', source: 'test' });
  // Let retries with backoff and timers run on the manual clock.
  let result = await Promise.race([runPromise, clock.advance(0).then(() => null)]);
  for (let i = 0; result === null && i < 10_000 && clock.pendingTimers() > 0; i++) {
    result = await Promise.race([runPromise, clock.advance(1_000).then(() => null)]);
  }
  const finished = result ?? (await runPromise);
  const run = await engine.getRun(finished.requestId);
  const logs = (await engine.getRunLogs(run.runId, { limit: 10_000 })).entries;
  await engine.close();
  return {
    status: run.status,
    // Successors are SUCCEED steps that return the last output, so the run's output is the step's.
    output: finished.error ? null : finished.output,
    next: findNext(logs),
    ...(finished.error ? { error: finished.error } : {}),
    vars: run.state.vars,
    outputs: run.state.outputs,
    logs,
    items: finished.items,
    run,
    engine,
  };
}

function findNext(logs: LogEntry[]): string | null {
  // The first step-level entry of another step than the one under test is its successor's.
  const after = logs.map((l) => l.details?.stepId).find((id) => id !== undefined && id !== '__step');
  return after === undefined ? null : String(after);
}
