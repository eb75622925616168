/**
 * The public types of the engine: runtime configuration, modules and their context, and the
 * options and results of starting and running actions.
 */
import type { Budgets } from '../budgets.js';
import type { FlowError } from '../errors.js';
import type { ActionName, InputField } from '../flow-types.js';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { FlowDefinition } from '../model.js';
import type { ModelResolver } from './steps/model-resolver.js';
import type { GovernancePolicy } from './governance/governance-policy.js';
import type { Item, LogEntry, RunEvent, RunRecord, RunStatus } from '../run.js';

/** A pino-compatible logger (only the methods flowrun calls). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A handle on an item a module emitted: update its content, then mark it done. */
export interface ItemHandle {
  readonly id: string;
  update(content: unknown): void;
  done(content?: unknown): void;
}

/** What a module receives besides its input. */
export interface ModuleContext {
  runId: string;
  stepId: string;
  flowId: string;
  /** Aborted when the run is canceled or times out, or the step times out. */
  signal: AbortSignal;
  /**
   * Stable across retries and crash re-executions of the same step visit: use it to make side
   * effects idempotent (a module interrupted mid-flight runs again with the same key).
   */
  idempotencyKey: string;
  /** The attempt number of this step (1 on the first try). */
  attempt: number;
  /** `runtimeConfig.settings`. */
  settings: Readonly<Record<string, unknown>>;
  /**
   * Adds a log entry to the run. It is written while the step still runs — entries of the same
   * ~10 ms go in one transition — and reaches `getRunLogs`, watchers and SSE streams then; a crash
   * loses at most the entries of the last ~10 ms (and the step runs again). Entries count against
   * the run's history cap (`maxHistoryPerRun`, default 10,000: later ones are dropped, once
   * noted by a `HistoryTruncated` entry); one larger than `maxValueBytes` throws LIMIT_EXCEEDED.
   */
  log(code: string, description: string, details?: Record<string, unknown>): void;
  /** Emits an item; transient items reach live listeners only and are never persisted. */
  emitItem(item: { type: string; content?: unknown; transient?: boolean }): ItemHandle;
  /**
   * Replaces an output of the run. Committed with the step (a failed or retried attempt writes
   * nothing); a streamable output streams to callers and watchers meanwhile. Ignored after the step ended.
   */
  write(outputName: string, value: unknown): void;
  /** Appends one element to a list or collection output; committed and streamed like {@link ModuleContext.write}. */
  append(outputName: string, element: unknown): void;
}

/** A TypeScript function registered under a `moduleIdentifier`. Its resolved value is the step's output. */
export type Module = (input: Record<string, unknown>, ctx: ModuleContext) => unknown | Promise<unknown>;

/**
 * A module written as an object: `run` receives the input `input` produced (defaults applied,
 * coercions done) and its result is checked against `output`. Either schema may be left out (then
 * nothing is checked on that side and its type is `Record<string, unknown>` / `unknown`).
 */
export interface ModuleDefinition<I = Record<string, unknown>, O = unknown> {
  input?: StandardSchemaV1<unknown, I>;
  output?: StandardSchemaV1<O, unknown>;
  /** What the module does; its resolved value is the step's output. */
  run(input: I, ctx: ModuleContext): O | Promise<O>;
  description?: string;
}

/** A module as `runtimeConfig.modules` and `createEngine({modules})` accept it: a function, or a definition object. */
export type ModuleRegistration = Module | { input?: StandardSchemaV1; output?: StandardSchemaV1; run(input: never, ctx: ModuleContext): unknown; description?: string };

/** Instance-level configuration (seed 002): modules, settings, logger, limits. */
export interface RuntimeConfig {
  /** Modules by `moduleIdentifier`: functions, or `{input, output, run}` definitions (see `defineModule`). */
  modules?: Record<string, ModuleRegistration>;
  /** Flow-readable configuration (`settings` in expressions, `ctx.settings` in modules). */
  settings?: Record<string, unknown>;
  logger?: Logger;
  /** Maximum `run` depth across subflows and child runs (default 100). */
  maxDepth?: number;
  /**
   * How deep objects and arrays may nest in a run's input, an event payload, a flow definition or
   * a module's result (default 100, `DEFAULT_MAX_NESTING_DEPTH`). Deeper input is refused with
   * INVALID_INPUT naming the path; a deeper module result or EMIT payload fails its step with NESTING_TOO_DEEP.
   */
  maxNestingDepth?: number;
  /** Step-level log and ledger entries kept per run before they are dropped (default 10,000). */
  maxHistoryPerRun?: number;
  /** Budgets of runs, run trees and principals over their defaults (see budgets.ts); exceeding one is LIMIT_EXCEEDED. */
  budgets?: Partial<Budgets>;
  /** Finds the model of an ASK step by its id; without one, ASK steps fail with MODEL_NOT_CONFIGURED. */
  modelResolver?: ModelResolver;
  /** Asked before every ASK, MODULE, cross-flow RUN_FLOW and START_FLOW_EXECUTION step: allow, deny, or approve (the run waits INACTIVE). See governance.ts. */
  governance?: GovernancePolicy;
}

/** A live event of a run: the persisted events plus transient item changes. */
export type LiveRunEvent = RunEvent & { transient?: boolean };

/** An item change as `onItem` sees it. */
export interface ItemEvent {
  change: 'added' | 'updated' | 'done';
  item: Item;
  /** The run the item belongs to (the run itself, or one of its synchronous child runs). */
  runId: string;
  id: string;
  type: string;
  transient: boolean;
}

/** Options to start a run of an action. */
export interface StartRunOptions {
  /** A FlowDefinition (deployed into the stores if new) or the id of a deployed flow. */
  flow: FlowDefinition | string;
  /** A version number or `LATEST_PUBLISHED`; for a flow id, default: the published version, else the latest. */
  version?: number | 'LATEST_PUBLISHED' | 'LATEST';
  actionName?: string;
  input?: unknown;
  /**
   * The principal starting the run: trusted as given (seed 002), but held to the flow's roles —
   * a user who may not start the flow gets PERMISSION_DENIED and no run is created. Without it
   * the caller is trusted in-process code and the run is recorded as created by `anonymous`.
   */
  userId?: string;
  /**
   * Groups an identity provider asserts for `userId` (an HTTP `authenticate` hook): they count
   * with the groups the stores know when the start is checked. Not recorded on the run: checks
   * inside it use the stored principal.
   */
  userGroups?: readonly string[];
  sessionId?: string;
  /** Recorded on the run. Default `http`. */
  source?: string;
  /** Caller-chosen run id (a UUID); default a new UUIDv7. */
  requestId?: string;
  label?: string;
  tags?: string[];
  timeoutMs?: number;
  /** A service account to run as: `userId` must hold act-as on it, and it must be allowed to start the flow. */
  runAs?: string;
  /** The event that started the run (`event` in expressions). */
  event?: unknown;
  /** Who may read the run (status, logs, items, stream): users and groups. */
  monitors?: { users?: string[]; groups?: string[] };
  /** Who may also update and cancel it. */
  managers?: { users?: string[]; groups?: string[] };
  /** Seed 003's names for the same roles, merged with `monitors` / `managers`. */
  runMonitoringBy?: string[];
  runMonitoringGroups?: string[];
  runManagingBy?: string[];
  runManagingGroups?: string[];
}

/** Options of `runAction`: start a run and wait for it. */
export interface RunActionOptions extends StartRunOptions {
  /** Sees every item added / updated / done, transient ones included. Exceptions are isolated. */
  onItem?: (event: ItemEvent) => void;
  /** Aborting cancels the run. */
  signal?: AbortSignal;
  /**
   * Sees the run's returned outputs: snapshots of streamable ones while it runs (at most one per
   * 10 ms), then every returned output once when it succeeds. When it fails or is canceled, each
   * output already reported is reported again with its value at the start: a failed run writes
   * nothing. Exceptions are isolated.
   */
  onOutput?: (name: string, snapshot: unknown) => void;
}

/**
 * What `runAction` resolves to (seed 002's ExecutionResult). `O` is the type of a successful run's
 * output: `ActionOutput<F, A>` for a flow written with `defineFlow`, `unknown` otherwise. Test
 * `status` (or `error`) to narrow `output`: a run that did not succeed has `output: null` and `error` set.
 */
export type ExecutionResult<O = unknown> = {
  requestId: string;
  /** Persisted items (never transient ones), in creation order, in their final state. */
  items: Item[];
  durationMs: number;
} & ({ status: 'SUCCEEDED'; output: O; error?: undefined } | { status: Exclude<RunStatus, 'SUCCEEDED'>; output: null; error: FlowError });

/**
 * Start or run options typed by their flow: `flow` is a flow written with `defineFlow` (or a JSON
 * import), `actionName` one of its actions (default `main`) and `input` what that action accepts
 * (`ActionInput`); a wrong action name or input is a compile error. For a flow id or a definition
 * known only at run time, `actionName` is any string and `input` is `unknown`, checked when the run starts.
 */
export type TypedRunOptions<O extends StartRunOptions, F, A extends ActionName<F>> = Omit<O, 'flow' | 'actionName' | 'input'> & {
  flow: F;
  actionName?: A;
} & InputField<F, A>;

/** A page of log entries. */
export interface LogPage {
  entries: LogEntry[];
  total: number;
}

/** The result of waiting for a run. */
export type WaitResult = RunRecord;
