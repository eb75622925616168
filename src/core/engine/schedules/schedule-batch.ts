/**
 * Firing a poll's due schedules in batches: each schedule's slots are decided (schedule-firing.ts:
 * outcomes, overlap, catch-up, pause), the runs they start are built and created — ready, each
 * under the id derived from its slot — all at once (`startBatch`); once every batch of the poll
 * has created its runs, the schedules are saved a batch at a time (`saveLooks`), and only then are
 * the runs handed to the engine's ready-run path (its leases, its concurrency, its fair shares) to
 * execute. A slot's start is its run's creation: a burst of 10,000 schedules due at the same
 * second is started in a few group commits, not behind 10,000 executions nor 10,000 saves.
 *
 * Exactly once, as before: the runs are created before the schedules are saved, under ids the slot
 * derives. A crash in between leaves runs the next look meets (the store refuses a second run with
 * the same id: counted as started) and schedules whose claims run out, never a slot fired twice or
 * lost. A schedule whose runs could not all be created as planned, or whose save meets another
 * save (a request, another engine), is fired again alone, the way a single look fires it
 * (`fireAndSave`): from the record as stored, meeting the runs already created.
 */
import { NotFoundError, toFlowError } from '../../errors.js';
import type { FlowVersionRecord } from '../../model.js';
import type { NewRun, RunEventBody } from '../../run.js';
import type { ScheduleRecord } from '../../schedule.js';
import type { Clock } from '../../clock.js';
import type { Store } from '../../store.js';
import type { AccessControl } from '../access/authorize.js';
import { startEvents, type BuildRunInput, type CreatedRun } from '../engine-core.js';
import type { Logger } from '../types.js';
import type { PollRunIds } from './poll-run-ids.js';
import { fireDue, type FiringDeps, type SlotStart } from './schedule-firing.js';

/** What a batch needs of the engine, and the single-schedule path its leftovers take. */
export interface BatchDeps {
  store: Store;
  clock: Clock;
  logger: Logger | undefined;
  access: AccessControl;
  /** The flow version in effect: published, else latest. Throws FLOW_NOT_FOUND. */
  loadFlow(flowId: string): Promise<FlowVersionRecord>;
  buildRun(input: BuildRunInput): NewRun;
  cancelRunTree(runId: string, reason: string): Promise<void>;
  /** How soon a schedule holding buffered slots is looked at again (the poll interval). */
  pollIntervalMs: number;
  /** Fires one schedule from its stored record and saves it, releasing its claim (the poller's `fireAndSave`). */
  fireAlone(schedule: ScheduleRecord): Promise<unknown>;
  /** How many schedules are decided at once (their reads, run ids and permission checks overlap). */
  concurrency: number;
}

/** One slot to start: decided by the policies, its run built once the whole batch is decided. */
interface PlannedStart {
  schedule: ScheduleRecord;
  flow: FlowVersionRecord;
  slot: number;
  previousTime: number | null;
  kind: 'slot' | 'trigger';
  runId: string;
}

/** A schedule of the batch: as claimed, as it will be saved, and the runs its slots start. */
interface Look {
  schedule: ScheduleRecord;
  next: ScheduleRecord;
  starts: PlannedStart[];
  /** Set when the batch cannot finish it: it is fired again alone. */
  alone: boolean;
}

/** What one poll's batches share: permission checks by owner, flow version and service account (a revoked grant counts from the next poll), and the slots' run ids. */
export interface PollShared {
  permitted: Map<string, Promise<void>>;
  ids: PollRunIds;
  /** Schedules whose earlier claim ran out unreleased (ClaimedSchedule.claimAbandoned): their slots may have runs under an older engine's ids. */
  abandoned: ReadonlySet<string>;
}

/** A schedule of a batch once its runs are created: saved later by {@link saveLooks}. */
export type BatchLook = Look;

/**
 * Decides `schedules` (claimed by this engine) and creates the runs their due slots start, all at
 * once; resolves with the looks, for {@link saveLooks} once every batch of the poll has created its
 * runs, and the runs created: ready, leased to nobody, for the caller to hand to the engine
 * (`runsCreated`). Nothing is saved yet: until it is, the claims keep other engines off these
 * schedules, and a look after a crash meets the runs.
 */
export async function startBatch(deps: BatchDeps, schedules: ScheduleRecord[], poll: PollShared): Promise<{ looks: BatchLook[]; created: CreatedRun[] }> {
  const looks = await decide(deps, schedules, poll);
  const planned = looks.flatMap((look) => (look.alone ? [] : look.starts.map((start) => ({ look, start }))));
  // Built now, just before they are created: a run's start time is its creation, not its slot.
  const runs: { look: Look; run: NewRun; fired: RunEventBody }[] = [];
  for (const { look, start } of planned) {
    if (look.alone) continue;
    try {
      runs.push({ look, ...buildStart(deps, start) });
    } catch {
      look.alone = true; // a refusal (its input against today's budgets): recorded by the single path
    }
  }
  // Ready, leased to nobody: this engine (after the poll) or any other claims them.
  const entries = runs.filter((r) => !r.look.alone).map((r) => ({ look: r.look, created: { run: r.run, events: [...startEvents(r.run), r.fired] } satisfies CreatedRun }));
  const created: CreatedRun[] = [];
  try {
    const outcomes = await deps.store.createRuns({ runs: entries.map((e) => e.created) });
    for (const [i, outcome] of outcomes.entries()) {
      const { look, created: entry } = entries[i]!;
      if (outcome === 'created') created.push(entry);
      // Started by an earlier look (this engine's, before a crash, or another's) that did not get to save: the slot has its run.
      else if ((await deps.store.getRun(entry.run.runId))?.source !== 'schedule') look.alone = true;
    }
  } catch (error) {
    // Some may be created: each schedule is fired again alone and meets its own.
    deps.logger?.warn({ err: error, runs: entries.length }, 'runs of fired schedules not created together; each schedule is fired alone');
    for (const { look } of entries) look.alone = true;
  }
  return { looks, created };
}

/**
 * Saves the schedules of {@link startBatch}'s looks at once, each over the version it was read at,
 * releasing their claims; then fires alone, from the record as stored, each the batch could not
 * finish (a run it could not build or create as planned, a save that met another). Resolves once
 * each is saved, fired alone, or left to its claim running out (logged).
 */
export async function saveLooks(deps: BatchDeps, looks: BatchLook[]): Promise<void> {
  const saving = looks.filter((look) => !look.alone);
  try {
    const saved = new Set(await deps.store.schedules.saveSchedules({ saves: saving.map((look) => ({ schedule: look.next, expectedVersion: look.schedule.version })) }));
    // Saved by someone else first (a request, another engine) or deleted: fired again alone, from the record as stored.
    for (const look of saving) if (!saved.has(look.schedule.scheduleId)) look.alone = true;
  } catch (error) {
    // The runs are created; their schedules stay claimed until the claims run out, and the next look meets the runs.
    deps.logger?.warn({ err: error, schedules: saving.length }, 'fired schedules not saved; a later poll meets their runs');
  }
  for (const look of looks) {
    if (!look.alone) continue;
    await deps.fireAlone(look.schedule).catch((error: unknown) => deps.logger?.warn({ err: error, scheduleId: look.schedule.scheduleId }, 'schedule not fired; a later poll retries'));
  }
}

/** Every schedule's look at the clock's now, several at once; a schedule whose look fails is left to its claim running out (logged). */
async function decide(deps: BatchDeps, schedules: ScheduleRecord[], poll: PollShared): Promise<Look[]> {
  const now = deps.clock.now();
  const looks: Look[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < schedules.length) {
      const schedule = schedules[next++]!;
      const starts: PlannedStart[] = [];
      const firing: FiringDeps = {
        now,
        recheckMs: deps.pollIntervalMs,
        getRun: (runId) => deps.store.getRun(runId),
        start: (s, slot, previousTime, kind) => plan(deps, poll, starts, { schedule: s, slot, previousTime, kind }),
        cancel: (runId, reason) => deps.cancelRunTree(runId, reason),
      };
      try {
        looks.push({ schedule, next: await fireDue(firing, schedule), starts, alone: false });
      } catch (error) {
        deps.logger?.warn({ err: error, scheduleId: schedule.scheduleId }, 'schedule not fired; a later poll retries');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency, schedules.length) }, worker));
  return looks;
}

/**
 * Plans the run of one slot: its flow and action (gone: thrown, so the schedule pauses itself
 * saying why), its derived id, and the owner's right to start it (or the service account's),
 * checked at every slot through the poll's cache — a refusal is recorded, not thrown.
 */
async function plan(deps: BatchDeps, poll: PollShared, starts: PlannedStart[], slot: Omit<PlannedStart, 'flow' | 'runId'>): Promise<SlotStart> {
  const { schedule } = slot;
  const flow = await deps.loadFlow(schedule.flowId);
  if (!Object.hasOwn(flow.definition.actions, schedule.actionName)) {
    throw new NotFoundError('ACTION_NOT_FOUND', `flow "${flow.flowId}" v${flow.version} has no action "${schedule.actionName}"`);
  }
  // An engine that stopped mid-look may have started the slot's run; an older one, under the id
  // it derived then. That run is the slot's: a second one under today's id would fire it twice.
  if (poll.abandoned.has(schedule.scheduleId)) {
    const legacyId = await poll.ids.legacyForSlot(schedule, slot.slot, slot.kind);
    if ((await deps.store.getRun(legacyId))?.source === 'schedule') return { runId: legacyId };
  }
  const runId = await poll.ids.forSlot(schedule, slot.slot, slot.kind);
  const key = JSON.stringify([schedule.owner, flow.flowId, flow.version, schedule.runAs]);
  let check = poll.permitted.get(key);
  if (!check) poll.permitted.set(key, (check = deps.access.assertCanStart({ by: schedule.owner === '' ? null : schedule.owner, flow, runAs: schedule.runAs })));
  try {
    await check;
  } catch (error) {
    const failure = toFlowError(error);
    if (failure.code === 'STORE_ERROR' || failure.code === 'ENGINE_CLOSED') throw failure;
    deps.logger?.warn({ err: failure, scheduleId: schedule.scheduleId, slot: slot.slot }, `schedule slot not started: ${failure.code}`);
    return { refused: failure };
  }
  starts.push({ ...slot, flow, runId });
  return { runId };
}

/** The run of a planned slot, as a single look builds it, and the log line saying which slot started it. Throws what buildRun throws. */
function buildStart(deps: BatchDeps, start: PlannedStart): { run: NewRun; fired: RunEventBody } {
  const { schedule, slot, previousTime, kind } = start;
  const run = deps.buildRun({
    flow: start.flow,
    actionName: schedule.actionName,
    input: schedule.input,
    source: 'schedule',
    requestId: start.runId,
    createdBy: schedule.owner === '' ? 'anonymous' : schedule.owner,
    runAs: schedule.runAs,
    // Runs list by schedule through this tag (GET /runs?scheduleId=…).
    tags: [scheduleTag(schedule.scheduleId)],
    schedule: { id: schedule.scheduleId, scheduledTime: slot, previousTime },
  });
  return { run, fired: firedEvent(run, schedule, slot, previousTime, kind) };
}

/** The tag a schedule's runs carry: `schedule:<id>`. */
export function scheduleTag(scheduleId: string): string {
  return `schedule:${scheduleId}`;
}

/** The `ScheduleFired` log entry a schedule's run starts with. */
export function firedEvent(run: Pick<NewRun, 'startTime'>, schedule: Pick<ScheduleRecord, 'scheduleId' | 'actionName'>, slot: number, previousTime: number | null, kind: 'slot' | 'trigger'): RunEventBody {
  return {
    kind: 'log',
    entry: {
      time: run.startTime,
      code: 'ScheduleFired',
      description: `schedule ${schedule.scheduleId} started ${schedule.actionName} for ${new Date(slot).toISOString()}`,
      details: { scheduleId: schedule.scheduleId, scheduledTime: slot, previousTime, ...(kind === 'trigger' ? { triggered: true } : {}) },
    },
  };
}
