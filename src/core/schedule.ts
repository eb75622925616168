/**
 * Schedules (issue 17): durable records that start runs of a flow's action on a calendar (cron
 * with an IANA time zone) or at an interval, fired by whichever engine over the store gets there
 * first, once per slot. This file holds the model and its validation at the edge; slot arithmetic
 * lives in schedule-slots.ts, persistence in schedule-store.ts, firing in engine/schedules/.
 */
import { ValidationError, type ValidationIssue } from './errors.js';
import { cronIssue, parseEvery, type ScheduleSpec } from './schedule-slots.js';
import { issueOf, msg, type IssueMessage } from './validation/messages.js';

export type { ScheduleSpec };

/** What a slot does while the schedule's previous run is still going. */
export const OVERLAP_POLICIES = ['skip', 'bufferOne', 'bufferAll', 'cancelOther', 'allowAll'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** What a schedule is made of: the fields a definition, the API, the client and the CLI give. */
export interface ScheduleFields {
  flowId: string;
  /** The action each slot starts (default `main`). */
  actionName: string;
  spec: ScheduleSpec;
  /** No slot before this time (ms since the epoch). */
  startAt: number | null;
  /** No slot after this time. */
  endAt: number | null;
  /** Each slot fires up to this much later than its time, the same delay in every engine (spreads a herd). */
  jitterMs: number;
  /** The schedule stops after this many runs started. */
  maxRuns: number | null;
  /** The input of every run. */
  input: unknown;
  /** A service account the runs act as; the owner must hold act-as on it. */
  runAs: string | null;
  overlap: OverlapPolicy;
  /** Missed slots younger than this fire when an engine comes back; older ones are skipped, recorded. */
  catchupWindowMs: number;
  /** Pause the schedule once this many runs in a row failed (null: never). */
  pauseAfterFailures: number | null;
}

/** One thing that happened to a slot: a run started (and how it ended), or a skip and why. */
export interface ScheduleOutcome {
  /** The slot's time (for a skipped range, its first slot). */
  slot: number;
  /** For a range of skipped slots: its last slot and how many slots it holds. */
  lastSlot?: number;
  count?: number;
  runId?: string;
  /** `started` until the run is seen ended; then its status. `skipped` and `refused` never ran. */
  status: 'started' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'skipped' | 'refused';
  /** Why a slot was skipped or refused (and the code of a refusal). */
  reason?: string;
  code?: string;
  /** `trigger` and `backfill` slots are asked for, not due. */
  kind?: 'trigger' | 'backfill';
  at: number;
}

/** What firing a schedule keeps between slots. */
export interface ScheduleState {
  /** The last slot handled (fired, buffered or skipped); slots up to it are never looked at again. */
  lastSlot: number | null;
  /** The slot of the last run started (the next run's `previousTime`). */
  lastFiredSlot: number | null;
  runCount: number;
  consecutiveFailures: number;
  /** Slots waiting for the previous run to end (bufferOne, bufferAll). */
  buffered: number[];
  /** Runs started and not yet seen ended. */
  activeRuns: { runId: string; slot: number }[];
  /** The newest runs started (and refused starts), newest last, at most {@link MAX_RECENT_OUTCOMES}. */
  recent: ScheduleOutcome[];
  /** The newest skipped slots and ranges, with why, newest last, at most {@link MAX_RECENT_OUTCOMES}. */
  skipped: ScheduleOutcome[];
  /** Set when no slot remains (endAt passed, maxRuns reached). */
  completed?: boolean;
}

/** A schedule as stored. */
export interface ScheduleRecord extends ScheduleFields {
  scheduleId: string;
  /** Who the runs start as (the creator; for a definition's schedule, the flow's deployer; '' for trusted in-process code). */
  owner: string;
  /** `definition`: from a flow version's `schedules`, replaced when another version is published. */
  origin: 'api' | 'definition';
  /** For a definition's schedule: the flow version it came from. */
  definitionVersion: number | null;
  paused: boolean;
  /** Why it is paused (a person's note, or the reason it paused itself). */
  note: string | null;
  state: ScheduleState;
  /** When an engine should next look at it (a slot's time plus jitter, or a recheck); null while paused or completed. */
  nextFireAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** Moves with every save: a save computed from an older version is refused (CONFLICT). */
  version: number;
}

/** Outcomes kept per schedule. */
export const MAX_RECENT_OUTCOMES = 50;
/** Slots a bufferAll schedule holds at most; later ones are skipped, recorded. */
export const MAX_BUFFERED_SLOTS = 100;
/** Missed slots (within the catch-up window) fired at most per look: never a burst of thousands. */
export const MAX_CATCHUP_SLOTS = 50;
/** Slots one backfill may ask for. */
export const MAX_BACKFILL_SLOTS = 1000;

const SCHEDULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const DEFAULTS = { actionName: 'main', jitterMs: 0, overlap: 'skip' as OverlapPolicy, catchupWindowMs: 10 * 60_000 };

/** A schedule as the edges take it (JSON): times as ms or ISO strings, every field optional but the spec and the flow. */
export interface ScheduleInput {
  cron?: string;
  timezone?: string;
  every?: string;
  offset?: string;
  flowId?: string;
  actionName?: string;
  startAt?: number | string | null;
  endAt?: number | string | null;
  jitterMs?: number;
  maxRuns?: number | null;
  input?: unknown;
  runAs?: string | null;
  overlap?: OverlapPolicy;
  catchupWindowMs?: number;
  pauseAfterFailures?: number | null;
}

/**
 * Checks a schedule and fills its defaults. Every problem is an issue naming its field under
 * `path` (`schedules[0].cron: invalid cron …`, `timezone: unknown time zone "Mars/Base"`); throws
 * ValidationError with `code` (INVALID_INPUT at the API, INVALID_DEFINITION for a definition).
 */
export function checkScheduleFields(input: ScheduleInput, options: { path?: string; code?: 'INVALID_INPUT' | 'INVALID_DEFINITION'; base?: ScheduleFields } = {}): ScheduleFields {
  const issues = scheduleIssues(input, options.path ?? '', options.base);
  if (issues.length) throw new ValidationError(options.code ?? 'INVALID_INPUT', issues);
  return fieldsOf(input, options.base);
}

/** The problems of a schedule, each naming its field under `path`; empty when it is fine. Never throws. */
export function scheduleIssues(input: ScheduleInput, path = '', base?: ScheduleFields): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const at = (field: string): string => (path ? `${path}.${field}` : field);
  const add = (field: string, message: IssueMessage): void => void issues.push(issueOf(at(field), message));
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [{ path: path || '(schedule)', message: 'must be an object' }];
  const hasCron = input.cron !== undefined;
  const hasEvery = input.every !== undefined;
  if (hasCron && hasEvery) add('cron', 'give either "cron" or "every", not both');
  else if (!hasCron && !hasEvery && !base) add('cron', 'a schedule needs "cron" (with an optional "timezone") or "every"');
  if (hasCron) {
    const problem = typeof input.cron === 'string' ? cronIssue(input.cron) : 'must be a string';
    if (problem) add('cron', msg('invalidCron', { value: JSON.stringify(input.cron), problem }));
  }
  if (input.timezone !== undefined) {
    if (hasEvery || (!hasCron && base && !('cron' in base.spec))) add('timezone', '"timezone" applies to "cron" only');
    else if (!isTimeZone(input.timezone)) add('timezone', msg('unknownTimeZone', { value: JSON.stringify(input.timezone) }));
  }
  if (hasEvery && parseEvery(input.every) === null) add('every', msg('invalidInterval', { value: JSON.stringify(input.every) }));
  if (input.offset !== undefined) {
    if (!hasEvery) add('offset', '"offset" applies to "every" only');
    else if (parseEvery(input.offset, { allowZero: true }) === null) add('offset', `invalid offset ${JSON.stringify(input.offset)}: a duration such as "5m"`);
  }
  if (input.flowId !== undefined && (typeof input.flowId !== 'string' || input.flowId === '' || input.flowId.length > 200)) add('flowId', 'must be a flow id');
  if (input.actionName !== undefined && (typeof input.actionName !== 'string' || input.actionName === '')) add('actionName', 'must be an action name');
  for (const field of ['startAt', 'endAt'] as const) if (input[field] !== undefined && input[field] !== null && timeOf(input[field]) === null) add(field, `must be a time (ms since the epoch or an ISO 8601 string), got ${JSON.stringify(input[field])}`);
  const start = timeOf(input.startAt ?? null) ?? base?.startAt ?? null;
  const end = timeOf(input.endAt ?? null) ?? base?.endAt ?? null;
  if (start !== null && end !== null && end <= start) add('endAt', 'must be after startAt');
  const count = (field: 'jitterMs' | 'maxRuns' | 'catchupWindowMs' | 'pauseAfterFailures', min: number, nullable: boolean): void => {
    const value = input[field];
    if (value === undefined || (value === null && nullable)) return;
    if (!(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= 10 * 365 * 86_400_000)) add(field, `must be an integer of at least ${min}${nullable ? ' or null' : ''}, got ${JSON.stringify(value)}`);
  };
  count('jitterMs', 0, false);
  count('maxRuns', 1, true);
  count('catchupWindowMs', 0, false);
  count('pauseAfterFailures', 1, true);
  if (input.overlap !== undefined && !OVERLAP_POLICIES.includes(input.overlap)) add('overlap', `must be one of ${OVERLAP_POLICIES.join(', ')}, got ${JSON.stringify(input.overlap)}`);
  if (input.runAs !== undefined && input.runAs !== null && (typeof input.runAs !== 'string' || input.runAs === '' || input.runAs.length > 200)) add('runAs', msg('notServiceAccount'));
  return issues;
}

function fieldsOf(input: ScheduleInput, base: ScheduleFields | undefined): ScheduleFields {
  const spec: ScheduleSpec =
    input.cron !== undefined
      ? { cron: input.cron, ...(input.timezone !== undefined ? { timezone: input.timezone } : {}) }
      : input.every !== undefined
        ? { every: input.every, ...(input.offset !== undefined ? { offset: input.offset } : {}) }
        : base && 'cron' in base.spec && input.timezone !== undefined
          ? { ...base.spec, timezone: input.timezone }
          : (base?.spec ?? { every: '1h' });
  const pick = <K extends keyof ScheduleFields>(key: K, fallback: ScheduleFields[K]): ScheduleFields[K] => (input[key as keyof ScheduleInput] !== undefined ? (input[key as keyof ScheduleInput] as ScheduleFields[K]) : (base?.[key] ?? fallback));
  return {
    flowId: input.flowId ?? base?.flowId ?? '',
    actionName: input.actionName ?? base?.actionName ?? DEFAULTS.actionName,
    spec,
    startAt: input.startAt === undefined ? (base?.startAt ?? null) : timeOf(input.startAt),
    endAt: input.endAt === undefined ? (base?.endAt ?? null) : timeOf(input.endAt),
    jitterMs: pick('jitterMs', DEFAULTS.jitterMs),
    maxRuns: pick('maxRuns', null),
    input: input.input !== undefined ? input.input : (base?.input ?? {}),
    runAs: pick('runAs', null),
    overlap: pick('overlap', DEFAULTS.overlap),
    catchupWindowMs: pick('catchupWindowMs', DEFAULTS.catchupWindowMs),
    pauseAfterFailures: pick('pauseAfterFailures', null),
  };
}

/** True for a name the runtime's Intl knows as a time zone (IANA names, `UTC`). */
export function isTimeZone(value: unknown): boolean {
  if (typeof value !== 'string' || value === '' || value.length > 100) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function timeOf(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** Checks a schedule name (a definition's `name`, the id of a schedule made through the API). */
export function isScheduleName(value: unknown): value is string {
  return typeof value === 'string' && SCHEDULE_NAME.test(value);
}

/** The id of the schedule a flow definition names `name`: stable across the flow's versions, so a new version's schedule continues the old one's slots. */
export function definitionScheduleId(flowId: string, name: string): string {
  return `${flowId}#${name}`;
}

/** The state of a schedule nothing has fired yet. */
export function freshScheduleState(): ScheduleState {
  return { lastSlot: null, lastFiredSlot: null, runCount: 0, consecutiveFailures: 0, buffered: [], activeRuns: [], recent: [], skipped: [] };
}

/** The state with `added` outcomes appended, skips to `skipped` and the rest to `recent`, each keeping its newest {@link MAX_RECENT_OUTCOMES}. */
export function withOutcomes(state: ScheduleState, added: readonly ScheduleOutcome[]): ScheduleState {
  if (added.length === 0) return state;
  const keep = (list: readonly ScheduleOutcome[], more: ScheduleOutcome[]): ScheduleOutcome[] => {
    const all = [...list, ...more];
    return all.length > MAX_RECENT_OUTCOMES ? all.slice(all.length - MAX_RECENT_OUTCOMES) : all;
  };
  return { ...state, recent: keep(state.recent, added.filter((o) => o.status !== 'skipped')), skipped: keep(state.skipped ?? [], added.filter((o) => o.status === 'skipped')) };
}
