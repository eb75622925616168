/**
 * The flow model: the canonical JSON form of a flow (DESIGN.md §2). A JSON file, `defineFlow({...})`
 * in TypeScript and a compiled `.flow` file all produce exactly this object, so it can be
 * deployed, stored, versioned and drawn.
 */
import { stableStringify } from './json.js';

/** A JSON Schema (draft 2020-12 subset), as plain data. */
export type JsonSchema = { [key: string]: unknown };

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The simple variable types of the model (the DSL's `as text`, `as number`, …). */
export type VarType = 'text' | 'number' | 'boolean' | 'map' | 'list' | 'any';

/**
 * The type of a var, param or output: a simple `type`, a JSON `schema`, or a `collection`
 * (a list of objects of one class, each with an `id`).
 */
export interface TypeRef {
  type?: VarType;
  schema?: JsonSchema;
  /** Name of a class in `classes`: the value is a list of that class. */
  collection?: string;
}

/** A flow-level variable (`vars`), readable as `vars.x` / `flow_variables.x`. */
export interface VarDefinition extends TypeRef {
  default?: unknown;
  description?: string;
}

/** An action parameter: typed, maybe required, maybe with a default. */
export interface ParamDefinition extends TypeRef {
  required?: boolean;
  default?: unknown;
  description?: string;
}

/** An action output: a variable or collection the action fills, maybe returned to its caller. */
export interface OutputDefinition extends TypeRef {
  returned?: boolean;
  streamable?: boolean;
  default?: unknown;
  description?: string;
}

/** Retry policy of a step: how often and how long to wait, for which error codes. */
export interface RetryPolicy {
  maxAttempts: number;
  backoffMs?: number;
  backoffRate?: number;
  maxBackoffMs?: number;
  /** Error codes to retry; absent or `["*"]` retries every retryable error. */
  errorEquals?: string[];
}

/** A catch clause: on one of these error codes, continue at `next`. */
export interface CatchClause {
  errorEquals: string[];
  next: string;
}

/** One condition of a DECIDE step: the first true one wins. */
export interface Transition {
  condition: string;
  nextStepInstanceId: string;
}

/** One return mapping: copy a returned output of the callee into a target in the caller. */
export interface ReturnMapping {
  output: string;
  /** A path into the caller's context: `$.vars.lines`, `vars.lines`, `$.outputs.x`. */
  target: string;
  mode?: 'replace' | 'merge';
}

/** Where the step's source text came from (set by the DSL compiler; shown in the ledger). */
export interface SourceLocation {
  file?: string;
  line: number;
  column?: number;
}

/** Fields every step may carry. */
export interface StepBase {
  stepInstanceId?: string;
  displayName?: string;
  literals?: Record<string, unknown>;
  /** Target (dotted path into the step input) → source (`$…` JSONPath, or an expression). */
  inputMappings?: Record<string, string>;
  /** Target (path into the context, e.g. `$.vars.x`) → source (`$…` JSONPath into the step output, or an expression). */
  outputMappings?: Record<string, string>;
  defaultNextStepInstanceId?: string;
  retry?: RetryPolicy;
  catch?: CatchClause[];
  timeoutMs?: number;
  source?: SourceLocation;
}

export interface ComputeStep extends StepBase {
  stepType: 'COMPUTE';
  expression: string;
}
export interface DecideStep extends StepBase {
  stepType: 'DECIDE';
  transitions: Transition[];
}
export interface RunFlowStep extends StepBase {
  stepType: 'RUN_FLOW';
  /** A subflow of this flow (call-and-return in the same run)… */
  subflow?: string;
  /** …or another flow's action (a child run). */
  flowDefinitionId?: string;
  flowVersion?: number | string;
  action?: string;
  async?: boolean;
  runAs?: string;
  returnMappings?: ReturnMapping[];
}
export interface GotoStep extends StepBase {
  stepType: 'GOTO';
  subflow: string;
}
export interface StartFlowExecutionStep extends StepBase {
  stepType: 'START_FLOW_EXECUTION';
  moduleIdentifier?: string;
  runAs?: string;
}
/**
 * Generates typed fields with a model (the DSL's `ask NAME, using: "provider:model"`). The model
 * comes from `runtimeConfig.modelResolver(model)`; the step's output is an object with exactly
 * the `returns` fields, each checked against its type. Its input (`inputMappings`) is data the
 * model sees beside the task.
 */
export interface AskStep extends StepBase {
  stepType: 'ASK';
  /** The model id, `provider:model` (e.g. `anthropic:claude-sonnet-4-6`). */
  model: string;
  /** An expression whose value, as text, is the task given to the model. */
  task?: string;
  /** The fields to generate, by name, with their types. */
  returns: Record<string, TypeRef>;
  /** What an offline resolver (`assumingModelResolver`) answers: a value for each returned field. */
  assuming?: Record<string, JsonValue>;
}
export interface ModuleStep extends StepBase {
  stepType: 'MODULE';
  moduleIdentifier: string;
}
export interface SetStep extends StepBase {
  stepType: 'SET';
  target: string;
  expression: string;
}
export interface SucceedStep extends StepBase {
  stepType: 'SUCCEED';
  expression?: string;
}
export interface FailStep extends StepBase {
  stepType: 'FAIL';
  code?: string;
  description?: string;
}

/**
 * Suspends the run (INACTIVE, nothing held in memory) until a timer falls due — `durationMs`, or
 * `until` (an expression: epoch milliseconds or an ISO 8601 date-time) — or until an event named
 * `event` is published whose payload carries the values `match` computes (each property an
 * expression evaluated when the wait starts). With `event`, `timeoutMs` bounds the wait: the step
 * then fails with TIMEOUT (catchable). Output: `{waitedMs}` for a timer, `{event, eventId, waitedMs}` for an event.
 */
export interface WaitStep extends StepBase {
  stepType: 'WAIT';
  durationMs?: number;
  until?: string;
  event?: string;
  match?: Record<string, string>;
}
/**
 * Publishes event `event` with the value of `payload` (an expression or object template; default
 * null) once the step's transition is committed. The event id is derived from the run and the
 * step visit, so a re-execution after a crash publishes the same event again, which starts
 * nothing twice. Output: `{eventId}`.
 */
export interface EmitStep extends StepBase {
  stepType: 'EMIT';
  event: string;
  payload?: string;
}

/** Every step type of the model. */
export type StepDefinition =
  | ComputeStep
  | DecideStep
  | RunFlowStep
  | GotoStep
  | StartFlowExecutionStep
  | AskStep
  | ModuleStep
  | SetStep
  | SucceedStep
  | FailStep
  | WaitStep
  | EmitStep;

/** The step types, in the order DESIGN.md lists them. */
export const STEP_TYPES = [
  'COMPUTE',
  'DECIDE',
  'RUN_FLOW',
  'GOTO',
  'START_FLOW_EXECUTION',
  'ASK',
  'MODULE',
  'SET',
  'SUCCEED',
  'FAIL',
  'WAIT',
  'EMIT',
] as const;

export type StepType = (typeof STEP_TYPES)[number];

/** A list of steps with an entry point: the body of an action or a subflow. */
export interface StepGraph {
  startAt: string;
  steps: Record<string, StepDefinition>;
}

/** A named entry point of a flow. */
export interface ActionDefinition extends StepGraph {
  description?: string;
  params?: Record<string, ParamDefinition>;
  outputs?: Record<string, OutputDefinition>;
  timeoutMs?: number;
}

/** A subflow: a local step list reachable by `run`/`goto` from the flow. */
export type SubflowDefinition = StepGraph & { description?: string };

/**
 * An event subscription: on event `on`, run subflow or action `run`. The run acts as the flow's
 * deployer, or as the service account `runAs` (which the deployer must be allowed to act as).
 */
export interface SubscriptionDefinition {
  on: string;
  run: string;
  runAs?: string;
}

/**
 * A schedule a flow declares (issue 17): deployed and published with the flow, replaced when
 * another version is published. Its id is `<flowId>#<name>`, the same in every version, so a
 * new version's schedule continues the old one's slots. Runs start as the flow's deployer, or
 * as `runAs`. Fields as in the API (`cron` + `timezone` or `every` + `offset`, and the policies).
 */
export interface ScheduleDeclaration {
  name: string;
  /** The action each slot starts (default `main`). */
  action?: string;
  cron?: string;
  timezone?: string;
  every?: string;
  offset?: string;
  startAt?: number | string;
  endAt?: number | string;
  jitterMs?: number;
  maxRuns?: number;
  input?: unknown;
  runAs?: string;
  overlap?: 'skip' | 'bufferOne' | 'bufferAll' | 'cancelOther' | 'allowAll';
  catchupWindowMs?: number;
  pauseAfterFailures?: number;
}

/** Flow roles (DESIGN.md §6). */
export interface FlowRoles {
  administrators?: string[];
  starters?: string[];
  viewers?: string[];
}

/** A flow definition: the deployable unit. */
export interface FlowDefinition {
  id: string;
  title?: string;
  description?: string;
  classes?: Record<string, JsonSchema>;
  vars?: Record<string, VarDefinition>;
  actions: Record<string, ActionDefinition>;
  subflows?: Record<string, SubflowDefinition>;
  subscriptions?: SubscriptionDefinition[];
  schedules?: ScheduleDeclaration[];
  roles?: FlowRoles;
}

/** A deployed, immutable version of a flow. */
export interface FlowVersionRecord {
  flowId: string;
  version: number;
  definition: FlowDefinition;
  deployedBy: string;
  deployedAt: number;
  published: boolean;
  /** The `.flow` text the definition was compiled from, when it was deployed with it (as given: not compiled again). */
  source?: FlowSourceText;
}

/** The text of a `.flow` program a version was compiled from, and the file it came from. */
export interface FlowSourceText {
  /** The file's name (no directories), as the compiler recorded it in each step's `source.file`. */
  fileName?: string;
  text: string;
}

/** A copy of a source with only its two fields (a store keeps nothing else a caller put in the object). */
export function flowSourceOf(source: FlowSourceText): FlowSourceText {
  return { ...(source.fileName !== undefined ? { fileName: source.fileName } : {}), text: source.text };
}

/**
 * True when a deploy of `definition` with `source` would add nothing to `latest`: the same
 * definition (canonical JSON) and the same source text and file name (or neither has one). A
 * changed comment in a `.flow` file is a new version: a version's source never changes.
 */
export function isSameFlowVersion(latest: Pick<FlowVersionRecord, 'definition' | 'source'>, definition: FlowDefinition, source: FlowSourceText | undefined): boolean {
  if (stableStringify(latest.definition) !== stableStringify(definition)) return false;
  return latest.source?.text === source?.text && latest.source?.fileName === source?.fileName;
}

/** The flow version selector that means "the published one". */
export const LATEST_PUBLISHED = 'LATEST_PUBLISHED';
