/**
 * flowrun: a durable flow runtime for TypeScript.
 */
export * from './core/errors.js';
export * from './core/model.js';
export type { Clock, IdSource, TimerHandle, TimerOptions } from './core/clock.js';
export {
  RUN_STATUSES,
  isTerminalStatus,
  type RunStatus,
  type RunRecord,
  type RunState,
  type Frame,
  type LogEntry,
  type Item,
  type LedgerEntry,
  type RunEvent,
  type RunEventBody,
  type PrincipalSet,
} from './core/run.js';
export type { Store, StoreCapabilities, RunFilter, RunPage, FlowSummary, Transition, ClaimedRun, RunLease, RunPatch } from './core/store.js';
export type * from './core/engine/types.js';
export { Engine, type EngineOptions } from './core/engine/engine.js';
export { defineFlow } from './core/define-flow.js';
export { validateFlow, assertValidFlow } from './core/validate-flow.js';
export { compileExpression, evaluateExpression } from './core/expression/index.js';
export { createEngine, type CreateEngineOptions } from './create-engine.js';
export { runAction, type RunActionInput } from './run-action.js';
export { createMemoryStores, MemoryStore } from './store/memory/memory-store.js';
export { createFilesystemStores, createSqliteStore } from './store/sqlite/create-filesystem-stores.js';
export { SqliteStore } from './store/sqlite/sqlite-store.js';
export { createPostgresStores } from './store/postgres/create-postgres-stores.js';
export { PostgresStore } from './store/postgres/postgres-store.js';
export { systemClock } from './runtime/system-clock.js';
export { uuidIds } from './runtime/uuid-ids.js';
