/**
 * What happens when an engine looks at a due schedule: the outcomes of its runs brought up to
 * date, then every slot due since it last looked handled by the policies — missed slots older
 * than the catch-up window skipped (recorded, with why), the rest started or held by the overlap
 * policy — and the time to look again. It computes the schedule's next record; the caller saves
 * it over the version it read (schedule-service.ts), so two engines that looked at once cannot
 * both save. Runs are created before that save under ids derived from the slot: an engine that
 * crashes in between leaves runs the next look meets (the store refuses a second run with the
 * same id), never a slot fired twice.
 */
import { FlowError, toFlowError } from '../../errors.js';
import { isTerminalStatus, type RunRecord } from '../../run.js';
import { MAX_BUFFERED_SLOTS, MAX_CATCHUP_SLOTS, withOutcomes, type ScheduleOutcome, type ScheduleRecord, type ScheduleState } from '../../schedule.js';
import { countSlots, jitterOf, nextSlotAfter, slotsBetween } from '../../schedule-slots.js';

/** Whatever lateness the catch-up window is, a slot this late still fires: a busy poller is late too. */
export const MIN_CATCHUP_WINDOW_MS = 60_000;

/** Why a slot started no run: the run it started, or a refusal. */
export type SlotStart = { runId: string } | { refused: FlowError };

/** What firing needs of the engine. */
export interface FiringDeps {
  now: number;
  /** How soon a schedule holding buffered slots is looked at again (the poll interval). */
  recheckMs: number;
  getRun(runId: string): Promise<RunRecord | null>;
  /**
   * Starts the run of one slot (or finds the run an earlier look started for it). Rejects only
   * when the store fails; a refusal (permissions, input, budgets) is returned. Throws
   * FLOW_NOT_FOUND / ACTION_NOT_FOUND when the target is gone: the schedule pauses itself.
   */
  start(schedule: ScheduleRecord, slot: number, previousTime: number | null, kind: 'slot' | 'trigger'): Promise<SlotStart>;
  cancel(runId: string, reason: string): Promise<void>;
}

/** The outcomes of the schedule's runs that ended since it was last looked at: statuses, failure count. */
export async function refreshOutcomes(deps: Pick<FiringDeps, 'getRun'>, state: ScheduleState): Promise<ScheduleState> {
  if (state.activeRuns.length === 0) return state;
  const active: ScheduleState['activeRuns'] = [];
  let recent = state.recent;
  let failures = state.consecutiveFailures;
  for (const entry of state.activeRuns) {
    const run = await deps.getRun(entry.runId);
    if (run && !isTerminalStatus(run.status)) {
      active.push(entry);
      continue;
    }
    const status = run ? (run.status as 'SUCCEEDED' | 'FAILED' | 'CANCELED') : 'CANCELED';
    if (status === 'FAILED') failures++;
    else if (status === 'SUCCEEDED') failures = 0;
    recent = recent.map((o) => (o.runId === entry.runId && o.status === 'started' ? { ...o, status, ...(run?.runError ? { code: run.runError.code } : {}) } : o));
  }
  return { ...state, activeRuns: active, recent, consecutiveFailures: failures };
}

/**
 * The schedule after looking at it at `deps.now`: every due slot handled, and `nextFireAt` set.
 * Slots asked for (`trigger`, `backfill`) go through the same overlap policy.
 */
export async function fireDue(deps: FiringDeps, record: ScheduleRecord, asked?: { kind: 'trigger' | 'backfill'; slots: number[] }): Promise<ScheduleRecord> {
  const { now } = deps;
  let state = await refreshOutcomes(deps, record.state);
  const added: ScheduleOutcome[] = [];
  const pauseWith = (note: string): ScheduleRecord => ({ ...record, paused: true, note, state: withOutcomes(state, added), nextFireAt: null, updatedAt: now });
  if (record.paused && !asked) return { ...record, state, nextFireAt: null };
  if (record.pauseAfterFailures !== null && state.consecutiveFailures >= record.pauseAfterFailures && !asked) {
    return pauseWith(`paused after ${state.consecutiveFailures} consecutive failed runs (pauseAfterFailures ${record.pauseAfterFailures})`);
  }
  const cursor = slotCursor(record, state);
  const until = record.endAt === null ? now : Math.min(now, record.endAt);
  const due: { slot: number; kind: 'slot' | 'trigger' | 'backfill' }[] = [];
  if (asked) due.push(...asked.slots.map((slot) => ({ slot, kind: asked.kind })));
  else if (until > cursor) {
    // Slots older than the window are skipped as one recorded range, never fired in a burst.
    const windowStart = now - Math.max(record.catchupWindowMs, MIN_CATCHUP_WINDOW_MS) - record.jitterMs;
    let after = cursor;
    const missed = windowStart > after ? countSlots(record.spec, after, Math.min(windowStart, until), 1_000_000) : 0;
    if (missed > 0) {
      const first = nextSlotAfter(record.spec, after)!;
      added.push({ slot: first, count: missed, status: 'skipped', reason: `missed while no engine looked: ${missed} slot(s) older than the catch-up window (${record.catchupWindowMs} ms)`, at: now });
      after = Math.min(windowStart, until);
    }
    const inWindow = countSlots(record.spec, after, until, 1_000_000);
    if (inWindow > MAX_CATCHUP_SLOTS) {
      const extra = inWindow - MAX_CATCHUP_SLOTS;
      const dropped = slotsBetween(record.spec, after, until, extra).slots;
      added.push({ slot: dropped[0]!, count: extra, status: 'skipped', reason: `missed: ${extra} slot(s) beyond the ${MAX_CATCHUP_SLOTS} a catch-up fires at once`, at: now });
      after = dropped.at(-1)!;
    }
    for (const slot of slotsBetween(record.spec, after, until, MAX_CATCHUP_SLOTS).slots) due.push({ slot, kind: 'slot' });
    state = { ...state, lastSlot: Math.max(state.lastSlot ?? -Infinity, until) };
  }
  // Buffered slots go first, in order, as soon as nothing runs.
  const buffered = state.buffered;
  state = { ...state, buffered: [] };
  const fire = async (slot: number, kind: 'slot' | 'trigger' | 'backfill'): Promise<boolean> => {
    if (record.maxRuns !== null && state.runCount >= record.maxRuns) {
      added.push({ slot, status: 'skipped', reason: `maxRuns (${record.maxRuns}) reached`, ...kindOf(kind), at: now });
      return true;
    }
    const started = await deps.start(record, slot, state.lastFiredSlot, kind === 'trigger' ? 'trigger' : 'slot');
    if ('refused' in started) {
      added.push({ slot, status: 'refused', code: started.refused.code, reason: started.refused.message, ...kindOf(kind), at: now });
      state = { ...state, consecutiveFailures: state.consecutiveFailures + 1 };
      return true;
    }
    added.push({ slot, runId: started.runId, status: 'started', ...kindOf(kind), at: now });
    // allowAll with runs that never end: follow the newest ones only, so the record stays bounded.
    const activeRuns = [...state.activeRuns, { runId: started.runId, slot }].slice(-MAX_BUFFERED_SLOTS);
    state = { ...state, activeRuns, runCount: state.runCount + 1, lastFiredSlot: kind === 'trigger' ? state.lastFiredSlot : Math.max(state.lastFiredSlot ?? -Infinity, slot) };
    return true;
  };
  const handle = async (slot: number, kind: 'slot' | 'trigger' | 'backfill', wasBuffered: boolean): Promise<void> => {
    const running = state.activeRuns;
    if (running.length === 0 || record.overlap === 'allowAll') return void (await fire(slot, kind));
    const busy = `run ${running.at(-1)!.runId} (slot ${new Date(running.at(-1)!.slot).toISOString()}) still running`;
    if (wasBuffered) return void (state = { ...state, buffered: [...state.buffered, slot] });
    switch (record.overlap) {
      case 'skip':
        added.push({ slot, status: 'skipped', reason: `overlap: ${busy} (policy skip)`, ...kindOf(kind), at: now });
        return;
      case 'bufferOne':
      case 'bufferAll': {
        const room = record.overlap === 'bufferOne' ? 1 : MAX_BUFFERED_SLOTS;
        if (state.buffered.length < room) state = { ...state, buffered: [...state.buffered, slot] };
        else added.push({ slot, status: 'skipped', reason: `overlap: ${busy} and ${room} slot(s) already buffered (policy ${record.overlap})`, ...kindOf(kind), at: now });
        return;
      }
      case 'cancelOther':
        for (const other of running) {
          await deps.cancel(other.runId, `canceled by schedule ${record.scheduleId}: slot ${new Date(slot).toISOString()} is due (policy cancelOther)`);
        }
        const canceled = (o: ScheduleOutcome): ScheduleOutcome => (running.some((r) => r.runId === o.runId) && o.status === 'started' ? { ...o, status: 'CANCELED', reason: 'canceled for a later slot (policy cancelOther)' } : o);
        state = { ...state, activeRuns: [], recent: state.recent.map(canceled) };
        added.splice(0, added.length, ...added.map(canceled));
        await fire(slot, kind);
        return;
    }
  };
  try {
    for (const slot of buffered) await handle(slot, 'slot', true);
    for (const { slot, kind } of due) await handle(slot, kind, false);
  } catch (error) {
    const failure = toFlowError(error);
    if (failure.code === 'FLOW_NOT_FOUND' || failure.code === 'ACTION_NOT_FOUND') return pauseWith(`paused: ${failure.message}`);
    throw failure;
  }
  const done = withOutcomes(state, added);
  const next = nextLook(record, done, deps);
  return { ...record, state: { ...done, ...(next === null && state.buffered.length === 0 ? { completed: true } : {}) }, nextFireAt: next, updatedAt: asked ? now : record.updatedAt };
}

function kindOf(kind: 'slot' | 'trigger' | 'backfill'): { kind?: 'trigger' | 'backfill' } {
  return kind === 'slot' ? {} : { kind };
}

/**
 * The time after which a schedule's next slot lies: its last slot handled (its creation before
 * any), never before its `startAt` (a slot at `startAt` itself is due).
 */
export function slotCursor(record: Pick<ScheduleRecord, 'createdAt' | 'startAt'>, state: Pick<ScheduleState, 'lastSlot'>): number {
  return Math.max(state.lastSlot ?? record.createdAt, record.startAt === null ? -Infinity : record.startAt - 1);
}

/** When an engine should look at the schedule next: its next slot (plus jitter), sooner while slots wait in the buffer; null when none remains. */
export function nextLook(record: Pick<ScheduleRecord, 'scheduleId' | 'spec' | 'startAt' | 'endAt' | 'maxRuns' | 'jitterMs' | 'createdAt' | 'paused'>, state: ScheduleState, deps: { now: number; recheckMs: number }): number | null {
  if (record.paused) return null;
  const recheck = state.buffered.length > 0 ? deps.now + deps.recheckMs : null;
  if (record.maxRuns !== null && state.runCount >= record.maxRuns) return recheck;
  const cursor = slotCursor(record, state);
  const slot = nextSlotAfter(record.spec, cursor);
  if (slot === null || (record.endAt !== null && slot > record.endAt)) return recheck;
  const at = slot + jitterOf(record.scheduleId, slot, record.jitterMs);
  return recheck === null ? at : Math.min(at, recheck);
}

/** True for the errors that mean the schedule's flow or action is gone. */
export function isTargetGone(error: unknown): boolean {
  return error instanceof FlowError && (error.code === 'FLOW_NOT_FOUND' || error.code === 'ACTION_NOT_FOUND');
}
