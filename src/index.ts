/**
 * flowrun: a durable flow runtime for TypeScript.
 */
export * from './core/errors.js';
export { DEFAULT_BUDGETS, type Budgets } from './core/budgets.js';
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
  type Suspension,
  type ScheduleSlotContext,
} from './core/run.js';
export type { Store, StoreCapabilities, RunFilter, RunPage, FlowSummary, Transition, ClaimedRun, RunLease, RunPatch } from './core/store.js';
export type * from './core/engine/types.js';
export { PRINCIPAL_KINDS, type PrincipalKind, type PrincipalRecord, type PrincipalStore, type PrincipalFilter, type ResolvedPrincipal } from './core/principal-store.js';
export { canActAs, canAdministerFlow, canManageRun, canReadRun, canStartFlow, canViewFlow, isSystemAdministrator, type Principal, type FlowAccess, type RunAccess } from './core/permissions.js';
export type { AccessOptions, ListingOptions, RunList } from './core/engine/access/authorize.js';
export type { EnginePrincipals, NewPrincipal } from './core/engine/access/engine-principals.js';
export { Engine, type EngineOptions } from './core/engine/engine.js';
export { defineModule, type DefinedModule } from './core/engine/define-module.js';
export { EngineObservers, type EngineObserver, type ObservedRunStart, type ObservedRunEnd, type ObservedStep } from './core/engine/engine-observer.js';
export { defineFlow } from './core/define-flow.js';
export type {
  ActionDeclaration,
  ActionInput,
  ActionName,
  ActionOutput,
  DefaultActionName,
  DefinedFlow,
  FlowDeclaration,
  InputField,
  IsTypedFlow,
  JsonSchemaValue,
  OutputDeclaration,
  ParamDeclaration,
  SchemaDeclaration,
  VarTypeValue,
} from './core/flow-types.js';
export { validateFlow, assertValidFlow } from './core/validation/validate-flow.js';
export type { DeployedFlow, DeployOptions } from './core/engine/start/deploy-flow.js';
export { compileExpression, evaluateExpression } from './core/expression/index.js';
export { createEngine, type CreateEngineOptions } from './create-engine.js';
export { runAction, type RunActionInput, type TypedRunActionInput } from './run-action.js';
export { createMemoryStores, MemoryStore } from './store/memory/memory-store.js';
export { createFilesystemStores, createSqliteStore } from './store/sqlite/create-filesystem-stores.js';
export { SqliteStore } from './store/sqlite/sqlite-store.js';
export { createPostgresStores } from './store/postgres/create-postgres-stores.js';
export { PostgresStore } from './store/postgres/postgres-store.js';
export { systemClock } from './runtime/system-clock.js';
export { uuidIds } from './runtime/uuid-ids.js';
export { assumingModelResolver, type AskModel, type AskRequest, type ModelResolver } from './core/engine/steps/model-resolver.js';
export { ASK_TEXT_ITEM } from './core/engine/steps/ask-step.js';
export type { GovernancePolicy, GovernanceRequest, GovernanceDecision } from './core/engine/governance/governance-policy.js';
export type { ApprovalOptions } from './core/engine/governance/approvals.js';
export type { ListApprovalsOptions, PendingApproval, PendingApprovalPage } from './core/engine/governance/pending-approvals.js';
export type { PublishEventOptions, PublishedEvent, SkippedSubscriber } from './core/engine/events/event-publisher.js';
export { OVERLAP_POLICIES, type OverlapPolicy, type ScheduleInput, type ScheduleOutcome, type ScheduleRecord, type ScheduleSpec, type ScheduleState } from './core/schedule.js';
export type { ScheduleStore, NewSchedule, SchedulePage } from './core/schedule-store.js';
export type { EngineSchedules, ScheduleView, ScheduleViewPage } from './core/engine/schedules/engine-schedules.js';
export { compileFlow, type CompileFlowOptions, type CompileFlowResult, type Diagnostic, type DiagnosticCode } from './dsl/compile-flow.js';
export { translateFlow, type TranslateFlowOptions, type TranslateFlowResult } from './dsl/translate-flow.js';
export { LANGUAGES as FLOW_LANGUAGES } from './dsl/keywords/languages.js';
export type { KeywordTable, KeywordKey } from './dsl/keywords/keyword-table.js';
