/**
 * Publishing what EMIT steps put in a run's outbox (`state.outbox`). The executor calls
 * {@link drainOutbox} after every commit, so an event is published only once the transition that
 * emitted it is durable, and again when a run is resumed with entries left (the process died
 * between the commit and the publish). Event ids are fixed per step visit, so publishing twice
 * starts nothing twice. An entry leaves the outbox once published; the next transition records that.
 * An EMIT publishes as its run's principal (`runAs ?? createdBy`): it starts and wakes only what
 * that principal's own publish would (DESIGN.md §6).
 */
import type { RunRecord, RunState } from '../../run.js';
import type { EngineCore } from '../engine-core.js';

/** Entries being published now (by identity), so a commit in the meantime does not publish them again. */
const publishing = new WeakSet<object>();

/** Publishes every outbox entry not already being published; never throws (a failure is retried at the next commit). */
export function drainOutbox(core: EngineCore, run: Pick<RunRecord, 'runId' | 'runAs' | 'createdBy'>, state: RunState): void {
  const { runId } = run;
  for (const entry of state.outbox ?? []) {
    if (publishing.has(entry)) continue;
    publishing.add(entry);
    core.publishEvent(entry.event, entry.payload, { eventId: entry.eventId, userId: run.runAs ?? run.createdBy }).then(
      () => {
        const left = (state.outbox ?? []).filter((e) => e !== entry);
        if (left.length > 0) state.outbox = left;
        else delete state.outbox;
      },
      (error: unknown) => {
        publishing.delete(entry);
        core.logger?.warn({ err: error, runId, eventId: entry.eventId }, 'emitted event not published yet; retried at the next transition');
      },
    );
  }
}
