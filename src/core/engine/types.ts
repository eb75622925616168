/**
 * The public types of the engine: runtime configuration, modules and their context, and the
 * options and results of starting and running actions.
 */
import type { FlowError } from '../errors.js';
import type { FlowDefinition } from '../model.js';
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
  /** Adds a log entry to the run. */
  log(code: string, description: string, details?: Record<string, unknown>): void;
  /** Emits an item; transient items reach live listeners only and are never persisted. */
  emitItem(item: { type: string; content?: unknown; transient?: boolean }): ItemHandle;
}

/** A TypeScript function registered under a `moduleIdentifier`. Its resolved value is the step's output. */
export type Module = (input: Record<string, unknown>, ctx: ModuleContext) => unknown | Promise<unknown>;

/** Instance-level configuration (seed 002): modules, settings, logger, limits. */
export interface RuntimeConfig {
  modules?: Record<string, Module>;
  /** Flow-readable configuration (`settings` in expressions, `ctx.settings` in modules). */
  settings?: Record<string, unknown>;
  logger?: Logger;
  /** Maximum `run` depth across subflows and child runs (default 100). */
  maxDepth?: number;
  /** Step-level log and ledger entries kept per run before they are dropped (default 10,000). */
  maxHistoryPerRun?: number;
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
  /** The principal starting the run: trusted as given (seed 002). Default `anonymous`. */
  userId?: string;
  sessionId?: string;
  /** Recorded on the run. Default `http`. */
  source?: string;
  /** Caller-chosen run id (a UUID); default a new UUIDv7. */
  requestId?: string;
  label?: string;
  tags?: string[];
  timeoutMs?: number;
  runAs?: string;
  /** The event that started the run (`event` in expressions). */
  event?: unknown;
  monitors?: { users?: string[]; groups?: string[] };
  managers?: { users?: string[]; groups?: string[] };
}

/** Options of `runAction`: start a run and wait for it. */
export interface RunActionOptions extends StartRunOptions {
  /** Sees every item added / updated / done, transient ones included. Exceptions are isolated. */
  onItem?: (event: ItemEvent) => void;
  /** Aborting cancels the run. */
  signal?: AbortSignal;
}

/** What `runAction` resolves to (seed 002's ExecutionResult). */
export interface ExecutionResult {
  requestId: string;
  status: RunStatus;
  output: unknown;
  /** Persisted items (never transient ones), in creation order, in their final state. */
  items: Item[];
  durationMs: number;
  error?: FlowError;
}

/** A page of log entries. */
export interface LogPage {
  entries: LogEntry[];
  total: number;
}

/** The result of waiting for a run. */
export type WaitResult = RunRecord;
