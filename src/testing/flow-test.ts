/**
 * `createFlowTest`: a whole engine for one test — memory store, virtual time, mocked modules and
 * models — with helpers to start runs, publish events, approve, and assert on a run's steps,
 * ledger and outputs. It imports no test runner: assertions throw `node:assert`'s AssertionError,
 * which Vitest, Jest and `node:test` all report with a diff.
 */
import { AssertionError } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import type { Budgets } from '../core/budgets.js';
import { Engine } from '../core/engine/engine.js';
import type { GovernancePolicy } from '../core/engine/governance/governance-policy.js';
import type { PublishEventOptions, PublishedEvent } from '../core/engine/events/event-publisher.js';
import type { AskModel, AskRequest } from '../core/engine/steps/model-resolver.js';
import type { ExecutionResult, Module, ModuleContext, ModuleRegistration, RunActionOptions, StartRunOptions, TypedRunOptions } from '../core/engine/types.js';
import { toModules } from '../core/engine/define-module.js';
import { FlowError } from '../core/errors.js';
import type { ActionName, ActionOutput, DefaultActionName } from '../core/flow-types.js';
import type { FlowDefinition } from '../core/model.js';
import { isTerminalStatus, type LedgerEntry, type LogEntry, type RunRecord, type RunStatus } from '../core/run.js';
import { createMemoryStores } from '../store/memory/memory-store.js';
import { createSequentialIds } from './manual-clock.js';
import { createVirtualClock, type VirtualClock } from './virtual-clock.js';

/** A mocked model: answers an ASK step with the fields it returns (or a full {@link AskModel}). */
export type ModelMock = ((request: AskRequest) => Record<string, unknown> | Promise<Record<string, unknown>>) | AskModel;

/** Options of {@link createFlowTest}. */
export interface FlowTestOptions {
  /** Flows deployed and published before the first run (other flows a run calls, launches or is triggered by). */
  flows?: FlowDefinition[];
  /** Modules by identifier: functions or `defineModule` definitions; see also {@link FlowTest.mockModule}. */
  modules?: Record<string, ModuleRegistration>;
  /** Models of ASK steps by model id; see also {@link FlowTest.mockModel}. Unmocked ids fail with MODEL_NOT_CONFIGURED. */
  models?: Record<string, ModelMock>;
  governance?: GovernancePolicy;
  settings?: Record<string, unknown>;
  budgets?: Partial<Budgets>;
  /** Virtual time at the start (default 2026-01-01T00:00:00Z). */
  startMs?: number;
  /** See {@link VirtualClockOptions.quietTurns}. */
  quietTurns?: number;
}

/** One call of a mocked module. */
export interface ModuleCall {
  input: Record<string, unknown>;
  runId: string;
  stepId: string;
  attempt: number;
  /** Virtual time of the call. */
  at: number;
}

/** What {@link FlowTest.expectLedger} compares of an entry: the fields given, at any depth. */
export type LedgerMatch = { kind?: LedgerEntry['kind']; time?: number; from?: Partial<LedgerEntry['from']>; to?: Record<string, unknown> };

/** One ended visit of a step, in the order they ended (retried attempts are one visit). */
export interface StepVisit {
  stepId: string;
  outcome: 'succeeded' | 'failed' | 'caught';
  attempt: number;
  /** Virtual time the visit ended. */
  at: number;
  /** The error of a failed or caught visit. */
  errorCode?: string;
}

/** What {@link createFlowTest} returns. Call {@link FlowTest.close} when the test is done. */
export interface FlowTest {
  readonly engine: Engine;
  readonly clock: VirtualClock;
  /** Replaces (or adds) a module for the rest of the test; its calls are recorded. */
  mockModule(moduleId: string, module: ModuleRegistration): void;
  /** Replaces (or adds) the model an ASK step with this model id uses. */
  mockModel(modelId: string, model: ModelMock): void;
  /** The calls of a module so far, in order. */
  calls(moduleId: string): ModuleCall[];
  /**
   * Runs an action to its end in virtual time: waits, backoffs and timeouts are skipped as soon as
   * everything waits. Typed like `runAction`. Rejects with STILL_WAITING when the run waits for
   * something no timer brings (an event, an approval): start it with {@link FlowTest.start} instead.
   */
  run<F extends FlowDefinition | string, A extends ActionName<F> = DefaultActionName<F> & ActionName<F>>(options: TypedRunOptions<RunActionOptions, F, A>): Promise<ExecutionResult<ActionOutput<F, A>>>;
  /** Starts a run and lets it go as far as it can without an event or approval; virtual time skips meanwhile. */
  start<F extends FlowDefinition | string, A extends ActionName<F> = DefaultActionName<F> & ActionName<F>>(options: TypedRunOptions<StartRunOptions, F, A>): Promise<RunRecord>;
  /** Skips virtual time until the run has ended; rejects with STILL_WAITING when it waits for an event or approval. */
  finish(runId: string): Promise<RunRecord>;
  /** Skips virtual time until every run has ended or waits for an event or an approval. */
  idle(): Promise<void>;
  /**
   * Moves virtual time forward by `ms` (firing what falls due), without skipping beyond. Due
   * schedules fire on the way, each at its slot's time, in order: an hourly schedule advanced by a
   * day starts 24 runs, at the times the real clock would have.
   */
  advance(ms: number): Promise<void>;
  /** Publishes an event (as trusted code, or as `options.userId`), then lets what it started or resumed run. */
  publishEvent(name: string, payload?: unknown, options?: PublishEventOptions): Promise<PublishedEvent>;
  /** Approves the step a run waits at (default: its one pending approval), then lets the run go on. */
  approve(runId: string, stepId?: string): Promise<RunRecord>;
  /** Rejects the step a run waits at (it fails with GOVERNANCE_REJECTED), then lets the run go on. */
  reject(runId: string, stepId?: string): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord>;
  /** The run's ended step visits, in order. */
  steps(runId: string): Promise<StepVisit[]>;
  logs(runId: string): Promise<LogEntry[]>;
  ledger(runId: string): Promise<LedgerEntry[]>;
  /** The run's outputs as they stand (`state.outputs`: every declared output, returned or not). */
  outputs(runId: string): Promise<Record<string, unknown>>;
  /** Asserts the run's status. */
  expectStatus(runId: string, status: RunStatus): Promise<void>;
  /** Asserts the ids of the steps the run visited, in order (`steps(runId)`). */
  expectSteps(runId: string, stepIds: string[]): Promise<void>;
  /** Asserts that the ledger holds these entries in this order (each matched by the fields given, others may be between). */
  expectLedger(runId: string, entries: LedgerMatch[]): Promise<void>;
  /** Asserts the run's outputs have these values (fields not named are not compared). */
  expectOutputs(runId: string, outputs: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

// A test engine is alone on its store: leases and polls matter nothing, and their heartbeats would
// only be timers for virtual time to step through.
const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * Creates an engine for one test on a memory store and a virtual clock (see {@link VirtualClock}).
 * Modules and models are mocks of this test; every module call is recorded.
 *
 * @example
 * ```ts
 * const t = createFlowTest({ flows: [refund], modules: { 'billing/pay': async () => ({ ok: true }) } });
 * const result = await t.run({ flow: order, input: { orderId: 'o-1' } }); // a 30-day WAIT takes no time
 * await t.expectSteps(result.requestId, ['validate', 'wait_for_payment', 'pay', 'done']);
 * await t.close();
 * ```
 */
export function createFlowTest(options: FlowTestOptions = {}): FlowTest {
  const clock = createVirtualClock({ ...(options.startMs !== undefined ? { startMs: options.startMs } : {}), ...(options.quietTurns !== undefined ? { quietTurns: options.quietTurns } : {}) });
  const modules = new Map<string, Module>(Object.entries(toModules(options.modules)));
  const models = new Map<string, ModelMock>(Object.entries(options.models ?? {}));
  const calls = new Map<string, ModuleCall[]>();
  const recorded = (moduleId: string): Module => (input: Record<string, unknown>, ctx: ModuleContext) => {
    const module = modules.get(moduleId);
    if (!module) throw new FlowError('MODULE_NOT_FOUND', `no module is mocked as "${moduleId}" (step ${ctx.stepId})`);
    const list = calls.get(moduleId) ?? [];
    calls.set(moduleId, list);
    list.push({ input: structuredClone(input), runId: ctx.runId, stepId: ctx.stepId, attempt: ctx.attempt, at: clock.now() });
    return module(input, ctx);
  };
  // The engine's registry is fixed when it is built: each id gets a stand-in that calls the current mock.
  const registry = new Proxy<Record<string, Module>>({}, { get: (_t, id) => (typeof id === 'string' && modules.has(id) ? recorded(id) : undefined) });
  const engine = new Engine({
    stores: createMemoryStores(),
    clock,
    ids: createSequentialIds(),
    poll: false,
    leaseMs: YEAR_MS,
    pollIntervalMs: YEAR_MS,
    runtimeConfig: {
      settings: options.settings ?? {},
      ...(options.budgets ? { budgets: options.budgets } : {}),
      ...(options.governance ? { governance: options.governance } : {}),
      modelResolver: (modelId) => {
        const model = models.get(modelId);
        if (!model) return undefined;
        return typeof model === 'function' ? { generate: async (request) => model(request) } : model;
      },
    },
  });
  // After construction: the engine copied the (empty) registry; from now on lookups go to the mocks.
  (engine as { modules: Readonly<Record<string, Module>> }).modules = registry;
  let deployed: Promise<void> | null = null;
  const ready = (): Promise<void> =>
    (deployed ??= (async () => {
      for (const flow of options.flows ?? []) await engine.deployFlow(flow, { publish: true });
    })());

  // A run that waits for an event or an approval also has a deadline (its duration budget): a timer
  // too, but skipping to it would only time the run out. Skips stop short of such deadlines.
  const waitsOutsideTime = (run: RunRecord): boolean => run.status === 'INACTIVE' && (run.state.suspension?.kind === 'approval' || (run.state.suspension?.kind === 'event' && run.state.suspension.until === undefined));
  const stillWaiting = (run: RunRecord): FlowError => {
    const waiting = run.state.suspension;
    const what = waiting ? `${waiting.kind === 'event' ? `event "${waiting.event ?? ''}"` : `an ${waiting.kind}`} at step "${waiting.stepId}"` : 'something no timer brings';
    return new FlowError('STILL_WAITING', `run ${run.runId} is ${run.status} and waits for ${what}: publish it (publishEvent) or decide it (approve, reject), or advance past its deadline, then call finish again`, { runId: run.runId });
  };
  const finish = async (runId: string): Promise<RunRecord> => {
    let ended: RunRecord | undefined;
    const watch = engine.waitForRun(runId).then((run) => (ended = run));
    watch.catch(() => undefined);
    for (;;) {
      await clock.skip(() => ended !== undefined, { before: await eventDeadline() });
      if (ended) return ended;
      const run = await engine.getRun(runId);
      if (isTerminalStatus(run.status)) return run;
      if (waitsOutsideTime(run)) throw stillWaiting(run);
      // This run waits for time, and the skip stopped at another run's deadline: that run times out
      // on the way, as it would on the real clock.
      const next = clock.nextWakeAt();
      if (next === undefined) throw stillWaiting(run);
      await clock.advance(next - clock.now());
    }
  };
  /** The earliest deadline of a run waiting for an event or an approval (Infinity: none). */
  const eventDeadline = async (): Promise<number> => {
    let earliest = Infinity;
    const inactive = await engine.listRuns({ status: 'INACTIVE', limit: 1000 });
    for (const listed of inactive.runs) {
      const run = await engine.getRun(listed.runId);
      if (waitsOutsideTime(run) && run.deadline !== null) earliest = Math.min(earliest, run.deadline);
    }
    return earliest;
  };
  const pendingStep = async (runId: string, stepId: string | undefined): Promise<string> => {
    if (stepId !== undefined) return stepId;
    const approvals = (await engine.listApprovals({ limit: 1000 })).approvals.filter((a) => a.run.runId === runId);
    if (approvals.length !== 1) throw new FlowError('INVALID_INPUT', `run ${runId} has ${approvals.length} pending approvals; name the step`, { runId });
    return approvals[0]!.stepId;
  };
  const logs = async (runId: string): Promise<LogEntry[]> => (await engine.getRunLogs(runId, { limit: 1_000_000 })).entries;
  const steps = async (runId: string): Promise<StepVisit[]> =>
    (await logs(runId)).flatMap((entry): StepVisit[] => {
      const outcome = ({ StepSucceeded: 'succeeded', StepFailed: 'failed', StepCaught: 'caught' } as const)[entry.code as 'StepSucceeded'];
      if (!outcome || !entry.details) return [];
      const error = entry.details.error as { code?: string } | undefined;
      return [{ stepId: String(entry.details.stepId), outcome, attempt: Number(entry.details.attempt ?? 1), at: entry.time, ...(error?.code ? { errorCode: error.code } : {}) }];
    });

  return {
    engine,
    clock,
    mockModule: (moduleId, module) => void modules.set(moduleId, toModules({ [moduleId]: module })[moduleId]!),
    mockModel: (modelId, model) => void models.set(modelId, model),
    calls: (moduleId) => [...(calls.get(moduleId) ?? [])],
    async run(runOptions) {
      await ready();
      const requestId = (runOptions as StartRunOptions).requestId ?? engine.ids.newRunId();
      const result = engine.runAction({ ...(runOptions as RunActionOptions), requestId });
      let failedToStart: unknown;
      result.catch((error: unknown) => (failedToStart = error));
      await clock.settle();
      if (failedToStart !== undefined) return result as never;
      await finish(requestId);
      return result as never;
    },
    async start(startOptions) {
      await ready();
      const { requestId } = await engine.startRun(startOptions as StartRunOptions);
      await clock.settle();
      return engine.getRun(requestId);
    },
    finish,
    idle: async () => void (await clock.skip(undefined, { before: await eventDeadline() })),
    async advance(ms) {
      await ready();
      const target = clock.now() + ms;
      // A schedule's next slot is a time to stop at too: fire it there, then go on.
      for (let last = Number.NaN; ; ) {
        const due = await engine.store.schedules.nextDueAt();
        // Stop when nothing is due by the target, or a look left the same slot due (nothing more to fire now).
        if (due === null || due > target || (due === last && due <= clock.now())) break;
        last = due;
        if (due > clock.now()) await clock.advance(due - clock.now());
        await engine.schedules.pollOnce();
        await clock.settle();
      }
      await clock.advance(target - clock.now());
    },
    async publishEvent(name, payload, publishOptions) {
      await ready();
      const published = await engine.publishEvent(name, payload, publishOptions);
      await clock.settle();
      return published;
    },
    async approve(runId, stepId) {
      const run = await engine.approve(runId, await pendingStep(runId, stepId));
      await clock.settle();
      return run;
    },
    async reject(runId, stepId) {
      const run = await engine.reject(runId, await pendingStep(runId, stepId));
      await clock.settle();
      return run;
    },
    getRun: (runId) => engine.getRun(runId),
    steps,
    logs,
    ledger: (runId) => engine.getRunLedger(runId),
    outputs: async (runId) => (await engine.getRun(runId)).state.outputs,
    async expectStatus(runId, status) {
      const run = await engine.getRun(runId);
      check(run.status === status, { actual: run.status, expected: status, message: `run ${runId} is ${run.status}, expected ${status}${run.runError ? ` (${run.runError.code}: ${run.runError.description})` : ''}` });
    },
    async expectSteps(runId, stepIds) {
      const actual = (await steps(runId)).map((s) => s.stepId);
      check(isDeepStrictEqual(actual, stepIds), { actual, expected: stepIds, message: `run ${runId} visited ${actual.join(' → ') || 'no step'}, expected ${stepIds.join(' → ')}` });
    },
    async expectLedger(runId, entries) {
      const actual = await engine.getRunLedger(runId);
      let at = 0;
      for (const wanted of entries) {
        while (at < actual.length && !matches(actual[at], wanted)) at++;
        check(at < actual.length, { actual, expected: entries, message: `the ledger of run ${runId} has no entry like ${JSON.stringify(wanted)} in that order` });
        at++;
      }
    },
    async expectOutputs(runId, outputs) {
      const actual = (await engine.getRun(runId)).state.outputs;
      check(matches(actual, outputs), { actual, expected: outputs, message: `the outputs of run ${runId} differ` });
    },
    close: () => engine.close(),
  };
}

function check(ok: boolean, failure: { actual: unknown; expected: unknown; message: string }): void {
  if (!ok) throw new AssertionError({ ...failure, operator: 'deepStrictEqual' });
}

/** `actual` has every field of `expected` with an equal value (objects compared by the fields named; lists whole). */
function matches(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== 'object' || Array.isArray(expected)) return isDeepStrictEqual(actual, expected);
  if (actual === null || typeof actual !== 'object') return false;
  return Object.entries(expected).every(([key, value]) => matches((actual as Record<string, unknown>)[key], value));
}
