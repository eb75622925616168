/**
 * The memory store: everything in this process, gone when it exits. For tests, examples and
 * ephemeral runs. It keeps the same contract as the durable stores — copies in and out, leases,
 * fencing, versions — so code that works here works on SQLite and PostgreSQL. A sealed value
 * (core/seal-json.ts: a run's input as the engine hands it over, deeply frozen) is shared in and
 * out instead of copied, since nobody can change it: reads then answer that frozen object.
 */
import { ConflictError, FlowError, NotFoundError } from '../../core/errors.js';
import { flowSourceOf, isSameFlowVersion, type FlowDefinition, type FlowSourceText, type FlowVersionRecord } from '../../core/model.js';
import { cloneJson } from '../../core/json.js';
import { creationRecordedAt, isTerminalStatus, type Item, type LogEntry, type NewRun, type RunEvent, type RunEventBody, type RunRecord } from '../../core/run.js';
import type { ClaimSkip, ClaimedRun, FlowSummary, PendingEmit, RecordedRun, RunFilter, RunPage, RunTree, Store, StoreCapabilities, Transition } from '../../core/store.js';
import { countTreeRuns } from '../run-trees.js';
import { countLimit, encodeRunMarker, runListing } from '../run-marker.js';
import { filterStatuses, matchesRunFilter } from './run-filter-match.js';
import { waitingEventAfter } from '../waiting-event.js';
import { MemoryPrincipalStore } from './memory-principal-store.js';
import { MemoryScheduleStore } from './memory-schedule-store.js';
import { createRunsOneByOne } from '../create-runs-one-by-one.js';
import { MemoryRunState } from './memory-run-state.js';
import { inlineState, isInline, transitionStateChanges, wholeStateChanges } from '../../core/state-slots.js';

interface RunEntry {
  /** The run's fields; its state is `state`. */
  run: Omit<RunRecord, 'state'>;
  state: MemoryRunState;
  events: RunEvent[];
  logs: LogEntry[];
  items: Map<string, Item>;
  lastTransitionKey: string | null;
  /** The event the run waits for, kept by the rule the SQL stores keep in their column (store/waiting-event.ts). */
  waitingEvent: string | null;
}


/** A {@link Store} held in this process's memory. */
export class MemoryStore implements Store {
  readonly name = 'memory';
  readonly capabilities: StoreCapabilities = { isShared: false, isDurable: false, hasNotifications: false };
  readonly principals = new MemoryPrincipalStore(() => this.#open());
  readonly schedules = new MemoryScheduleStore(() => this.#open());
  readonly #flows = new Map<string, FlowVersionRecord[]>();
  readonly #runs = new Map<string, RunEntry>();
  /** The outbox: emitted events not yet published, by event id. */
  readonly #pendingEmits = new Map<string, PendingEmit>();
  #secret: Uint8Array | null = null;
  readonly #trees = new Map<string, RunTree>();
  #closed = false;

  async saveFlowVersion(input: { definition: FlowDefinition; deployedBy: string; at: number; source?: FlowSourceText }): Promise<FlowVersionRecord> {
    this.#open();
    const flowId = input.definition.id;
    const versions = this.#flows.get(flowId) ?? [];
    const latest = versions.at(-1);
    if (latest && isSameFlowVersion(latest, input.definition, input.source)) return cloneJson(latest);
    const record: FlowVersionRecord = {
      flowId,
      version: versions.length + 1,
      definition: cloneJson(input.definition),
      deployedBy: input.deployedBy,
      deployedAt: input.at,
      published: false,
      ...(input.source ? { source: flowSourceOf(input.source) } : {}),
    };
    versions.push(record);
    this.#flows.set(flowId, versions);
    return cloneJson(record);
  }

  async publishFlowVersion(input: { flowId: string; version: number }): Promise<FlowVersionRecord> {
    this.#open();
    const versions = this.#flows.get(input.flowId);
    const target = versions?.find((v) => v.version === input.version);
    if (!versions || !target) throw new NotFoundError('FLOW_NOT_FOUND', `flow "${input.flowId}" has no version ${input.version}`);
    for (const v of versions) v.published = v === target;
    return cloneJson(target);
  }

  async getFlowVersion(flowId: string, version: number | 'LATEST_PUBLISHED' | 'LATEST'): Promise<FlowVersionRecord | null> {
    this.#open();
    const versions = this.#flows.get(flowId);
    if (!versions) return null;
    const found =
      version === 'LATEST' ? versions.at(-1) : version === 'LATEST_PUBLISHED' ? versions.find((v) => v.published) : versions.find((v) => v.version === version);
    return found ? cloneJson(found) : null;
  }

  async listFlows(): Promise<FlowSummary[]> {
    this.#open();
    return [...this.#flows.values()].map((versions) => {
      const latest = versions.at(-1)!;
      return {
        flowId: latest.flowId,
        latestVersion: latest.version,
        publishedVersion: versions.find((v) => v.published)?.version ?? null,
        ...(latest.definition.title ? { title: latest.definition.title } : {}),
        updatedAt: latest.deployedAt,
      };
    });
  }


  async createRun(input: { run: NewRun; events?: RunEventBody[]; lease?: { owner: string; expiresAt: number }; maxRunsPerTree?: number }): Promise<ClaimedRun | { run: RunRecord; lease: null }> {
    const created = await this.#createRun(input);
    return created;
  }

  createRuns(input: { runs: { run: NewRun; events: RunEventBody[] }[] }): Promise<('created' | 'exists')[]> {
    return createRunsOneByOne(this, input.runs);
  }

  async #createRun(input: { run: NewRun; events?: RunEventBody[]; lease?: { owner: string; expiresAt: number }; maxRunsPerTree?: number }): Promise<ClaimedRun | { run: RunRecord; lease: null }> {
    this.#open();
    if (this.#runs.has(input.run.runId)) throw new ConflictError(`run "${input.run.runId}" already exists`, { runId: input.run.runId });
    // A run joining an existing tree (started by an EMIT of it) counts into it, or is refused here.
    const { treeId } = input.run;
    if (treeId !== input.run.runId) this.#trees.set(treeId, countTreeRuns(this.#trees.get(treeId), treeId, 1, input.maxRunsPerTree));
    const at = creationRecordedAt(input.run);
    const entry = this.#newEntry(input.run, at);
    if (input.lease) {
      entry.run.leaseOwner = input.lease.owner;
      entry.run.leaseExpiresAt = input.lease.expiresAt;
      entry.run.fencingToken = 1;
    }
    this.#append(entry, input.events ?? [], at);
    this.#runs.set(input.run.runId, entry);
    const { input: _input, ...fields } = entry.run;
    const run: RunRecord = { ...cloneJson(fields), input: input.run.input, state: input.run.state };
    return input.lease
      ? { run, lease: { runId: run.runId, owner: input.lease.owner, fencingToken: run.fencingToken, expiresAt: input.lease.expiresAt } }
      : { run, lease: null };
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    this.#open();
    const entry = this.#runs.get(runId);
    return entry ? this.#record(entry) : null;
  }

  async countRuns(filter: RunFilter, options: { max?: number } = {}): Promise<number> {
    this.#open();
    const max = countLimit(options.max);
    const statuses = filterStatuses(filter);
    let count = 0;
    for (const { run } of this.#runs.values()) if (count < max && matchesRunFilter(run, filter, statuses)) count++;
    return count;
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    this.#open();
    const { orderBy, dir, order, limit, after } = runListing(filter);
    const statuses = filterStatuses(filter);
    const keyOf = (run: Pick<RunRecord, 'startTime' | 'endTime'>): number => (orderBy === 'endTime' ? (run.endTime ?? Number.MAX_SAFE_INTEGER) : run.startTime);
    const compare = (a: Pick<RunRecord, 'startTime' | 'endTime' | 'runId'>, b: Pick<RunRecord, 'startTime' | 'endTime' | 'runId'>): number => {
      const byKey = keyOf(a) - keyOf(b) || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);
      return dir === 'asc' ? byKey : -byKey;
    };
    const matches: RunEntry[] = [];
    for (const entry of this.#runs.values()) {
      const run = entry.run;
      if (!matchesRunFilter(run, filter, statuses)) continue;
      if (after) {
        const markerRun = { startTime: after.key, endTime: after.key, runId: after.runId } as RunRecord;
        if (compare(run, markerRun) <= 0) continue;
      }
      matches.push(entry);
    }
    matches.sort((a, b) => compare(a.run, b.run));
    const page = matches.slice(0, limit);
    const hasNextPage = matches.length > limit;
    const last = page.at(-1)?.run;
    return {
      runs: page.map((entry) => this.#record(entry)),
      hasNextPage,
      marker: hasNextPage && last ? encodeRunMarker({ key: keyOf(last), runId: last.runId, order }) : null,
    };
  }

  async listEventWaiters(input: { event: string; after?: string; limit: number }): Promise<RunRecord[]> {
    this.#open();
    // A scan: this store holds what one process holds, and a waiter check is a string comparison.
    const found: RunEntry[] = [];
    for (const entry of this.#runs.values()) {
      const run = entry.run;
      if (entry.waitingEvent === input.event && run.status === 'INACTIVE' && (input.after === undefined || run.runId > input.after)) found.push(entry);
    }
    found.sort((a, b) => (a.run.runId < b.run.runId ? -1 : a.run.runId > b.run.runId ? 1 : 0));
    return found.slice(0, Math.max(0, Math.floor(input.limit))).map((entry) => this.#record(entry));
  }

  async claimRuns(input: { owner: string; limit: number; now: number; leaseExpiresAt: number; status?: 'ACTIVE' | 'INACTIVE'; skip?: ClaimSkip }): Promise<ClaimedRun[]> {
    this.#open();
    const claimed: ClaimedRun[] = [];
    const skipTrees = new Set(input.skip?.treeIds ?? []);
    const skipOwners = new Set(input.skip?.runOwners ?? []);
    for (const entry of this.#runs.values()) {
      if (claimed.length >= input.limit) break;
      if (skipTrees.has(entry.run.treeId) || skipOwners.has(entry.run.runOwner)) continue;
      if (this.#isClaimable(entry.run, input.now, input.status)) claimed.push(this.#lease(entry, input.owner, input.leaseExpiresAt));
    }
    return claimed;
  }

  async claimRun(input: { runId: string; owner: string; now: number; leaseExpiresAt: number; status?: 'ACTIVE' | 'INACTIVE' }): Promise<ClaimedRun | null> {
    this.#open();
    const entry = this.#runs.get(input.runId);
    const run = entry?.run;
    const claimable =
      input.status === 'INACTIVE'
        ? run?.status === 'INACTIVE' && (run.leaseOwner === null || (run.leaseExpiresAt ?? 0) <= input.now)
        : run !== undefined && this.#isClaimable(run, input.now);
    if (!entry || !claimable) return null;
    return this.#lease(entry, input.owner, input.leaseExpiresAt);
  }

  async recordTransition(t: Transition): Promise<RecordedRun> {
    const recorded = await this.#recordTransition(t);
    return recorded;
  }

  async #recordTransition(t: Transition): Promise<RecordedRun> {
    this.#open();
    const entry = this.#runs.get(t.runId);
    if (!entry) throw new NotFoundError('RUN_NOT_FOUND', `run "${t.runId}" does not exist`, { runId: t.runId });
    const run = entry.run;
    const key = `${t.lease.fencingToken}:${t.expectedVersion}`;
    // A duplicate of the transition just recorded (a retried write whose reply was lost) is a no-op.
    if (entry.lastTransitionKey === key && run.version === t.expectedVersion + 1) return this.#recorded(run, t);
    if (run.leaseOwner !== t.lease.owner || run.fencingToken !== t.lease.fencingToken) {
      throw new ConflictError(`run "${t.runId}" is no longer leased to ${t.lease.owner} (token ${t.lease.fencingToken})`, { code: 'LEASE_LOST', runId: t.runId });
    }
    if (isTerminalStatus(run.status)) throw new ConflictError(`run "${t.runId}" has already ended (${run.status})`, { code: 'LEASE_LOST', runId: t.runId });
    if (run.version !== t.expectedVersion) {
      throw new ConflictError(`run "${t.runId}" is at version ${run.version}, not ${t.expectedVersion}`, { code: 'LEASE_LOST', runId: t.runId });
    }
    const newIds = new Set<string>();
    for (const { run: child } of t.createRuns ?? []) {
      if (newIds.has(child.runId)) throw new ConflictError(`run "${child.runId}" is created twice in one transition`, { runId: child.runId });
      newIds.add(child.runId);
      if (this.#runs.has(child.runId)) throw new ConflictError(`run "${child.runId}" already exists`, { runId: child.runId });
    }
    const tree = t.createRuns?.length ? countTreeRuns(this.#trees.get(t.createRuns[0]!.run.treeId), t.createRuns[0]!.run.treeId, t.createRuns.length, t.maxRunsPerTree) : null;
    // Validation is over: from here on every change is applied, so the transition is all-or-nothing.
    if (tree) this.#trees.set(tree.treeId, tree);
    for (const created of t.createRuns ?? []) {
      const childEntry = this.#newEntry(created.run, t.at);
      if (created.lease) {
        childEntry.run.leaseOwner = created.lease.owner;
        childEntry.run.leaseExpiresAt = created.lease.expiresAt;
        childEntry.run.fencingToken = 1;
      }
      this.#append(childEntry, created.events, t.at);
      this.#runs.set(created.run.runId, childEntry);
    }
    const p = t.patch;
    if (p.status !== undefined) run.status = p.status;
    const changes = transitionStateChanges(t);
    // The memory store keeps every state as slots: a state written inline is written whole.
    if (changes) entry.state.apply(isInline(changes) ? wholeStateChanges(inlineState(t)) : changes);
    if ('output' in p) run.output = cloneJson(p.output);
    if (p.runError !== undefined) run.runError = cloneJson(p.runError);
    if (p.endTime !== undefined) run.endTime = p.endTime;
    if (p.readyAt !== undefined) run.readyAt = p.readyAt;
    const waiting = waitingEventAfter(p);
    if (waiting !== undefined) entry.waitingEvent = waiting;
    run.version += 1;
    run.updatedAt = t.at;
    if (t.releaseLease || isTerminalStatus(run.status)) {
      run.leaseOwner = null;
      run.leaseExpiresAt = null;
    } else if (t.leaseExpiresAt !== undefined) {
      run.leaseExpiresAt = t.leaseExpiresAt;
    }
    for (const item of t.items ?? []) entry.items.set(item.id, cloneJson(item));
    this.#append(entry, t.events ?? [], t.at);
    for (const emit of t.emits ?? []) {
      if (!this.#pendingEmits.has(emit.eventId)) this.#pendingEmits.set(emit.eventId, cloneJson({ ...emit, runId: t.runId, recordedAt: t.at }));
    }
    entry.lastTransitionKey = key;
    this.#wake(t.wakeRuns ?? [], t.at, t.wakeLease);
    return this.#recorded(run, t);
  }

  /** What recordTransition answers: a copy of the run's fields but its input, and the caller's own state object (if it gave one). */
  #recorded(run: Omit<RunRecord, 'state'>, t: Transition): RecordedRun {
    const { input: _input, ...rest } = run;
    const recorded: RecordedRun = cloneJson(rest);
    if (t.patch.state !== undefined) recorded.state = t.patch.state;
    return recorded;
  }

  /** A copy of the whole run, its state rebuilt from its slots. */
  #record(entry: RunEntry): RunRecord {
    return { ...cloneJson(entry.run), state: entry.state.read() };
  }

  async listPendingEmits(input: { recordedBefore: number; limit: number }): Promise<PendingEmit[]> {
    this.#open();
    return [...this.#pendingEmits.values()]
      .filter((emit) => emit.recordedAt <= input.recordedBefore)
      .sort((a, b) => a.recordedAt - b.recordedAt || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0))
      .slice(0, Math.max(0, input.limit))
      .map((emit) => cloneJson(emit));
  }

  async deletePendingEmits(eventIds: string[]): Promise<void> {
    this.#open();
    for (const id of eventIds) this.#pendingEmits.delete(id);
  }

  async getStoreSecret(): Promise<Uint8Array> {
    this.#open();
    this.#secret ??= globalThis.crypto.getRandomValues(new Uint8Array(32));
    return this.#secret.slice();
  }

  async cancelRun(input: { runId: string; at: number; events: RunEventBody[]; runError: { code: string; description: string }; wakeRuns?: string[] }): Promise<RunRecord | null> {
    this.#open();
    const entry = this.#runs.get(input.runId);
    if (!entry) throw new NotFoundError('RUN_NOT_FOUND', `run "${input.runId}" does not exist`, { runId: input.runId });
    const run = entry.run;
    if (isTerminalStatus(run.status)) return null;
    run.status = 'CANCELED';
    entry.waitingEvent = null;
    run.runError = { ...input.runError };
    run.endTime = input.at;
    run.updatedAt = input.at;
    run.readyAt = null;
    run.leaseOwner = null;
    run.leaseExpiresAt = null;
    run.version += 1;
    this.#append(entry, input.events, input.at);
    this.#wake(input.wakeRuns ?? [], input.at);
    return this.#record(entry);
  }

  async markTreeCanceled(input: { treeId: string; at: number }): Promise<RunTree> {
    this.#open();
    const tree = { ...(this.#trees.get(input.treeId) ?? { treeId: input.treeId, runCount: 1 }), canceled: true };
    this.#trees.set(input.treeId, tree);
    return { ...tree };
  }

  async getRunTree(treeId: string): Promise<RunTree | null> {
    this.#open();
    const tree = this.#trees.get(treeId);
    return tree ? { ...tree } : null;
  }

  async updateRun(input: { runId: string; at: number; label?: string | null; tags?: string[] }): Promise<RunRecord> {
    this.#open();
    const entry = this.#runs.get(input.runId);
    if (!entry) throw new NotFoundError('RUN_NOT_FOUND', `run "${input.runId}" does not exist`, { runId: input.runId });
    if (input.label !== undefined) entry.run.label = input.label;
    if (input.tags !== undefined) entry.run.tags = [...input.tags];
    entry.run.updatedAt = input.at;
    return this.#record(entry);
  }

  async renewLeases(input: { owner: string; runIds: string[]; expiresAt: number }): Promise<string[]> {
    this.#open();
    const held: string[] = [];
    for (const runId of input.runIds) {
      const run = this.#runs.get(runId)?.run;
      if (run && run.leaseOwner === input.owner && !isTerminalStatus(run.status)) {
        run.leaseExpiresAt = input.expiresAt;
        held.push(runId);
      }
    }
    return held;
  }

  async getRunEvents(runId: string, options: { afterSeq?: number; limit?: number; kinds?: RunEvent['kind'][] } = {}): Promise<RunEvent[]> {
    this.#open();
    const entry = this.#runs.get(runId);
    if (!entry) return [];
    const afterSeq = options.afterSeq ?? 0;
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const kinds = options.kinds ? new Set(options.kinds) : null;
    const out: RunEvent[] = [];
    // Events are stored in seq order starting at 1, so the first candidate is at index afterSeq.
    for (let i = Math.max(0, afterSeq); i < entry.events.length && out.length < limit; i++) {
      const event = entry.events[i]!;
      if (!kinds || kinds.has(event.kind)) out.push(cloneJson(event));
    }
    return out;
  }

  async getRunLogs(runId: string, options: { limit?: number; offset?: number } = {}): Promise<{ entries: LogEntry[]; total: number }> {
    this.#open();
    const logs = this.#runs.get(runId)?.logs ?? [];
    const offset = Math.max(0, options.offset ?? 0);
    const limit = Math.max(0, options.limit ?? 100);
    return { entries: cloneJson(logs.slice(offset, offset + limit)), total: logs.length };
  }

  async getRunItems(runId: string): Promise<Item[]> {
    this.#open();
    return cloneJson([...(this.#runs.get(runId)?.items.values() ?? [])]);
  }

  async deleteEndedRuns(input: { endedBefore: number; limit: number }): Promise<number> {
    this.#open();
    let deleted = 0;
    for (const [runId, entry] of this.#runs) {
      if (deleted >= input.limit) break;
      if (isTerminalStatus(entry.run.status) && entry.run.endTime !== null && entry.run.endTime < input.endedBefore) {
        this.#runs.delete(runId);
        // A tree's row goes with its root (a tree of ended runs creates nothing more).
        this.#trees.delete(runId);
        deleted++;
      }
    }
    return deleted;
  }

  /** Resolves while the store is open; STORE_ERROR once it is closed. */
  async ping(): Promise<void> {
    this.#open();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed) throw new FlowError('STORE_ERROR', `the ${this.name} store is closed`);
  }

  #newEntry(newRun: NewRun, at: number): RunEntry {
    const { state, ...run } = newRun;
    const copied = cloneJson(run);
    // A run created already ended (run.ts, NewRun) keeps its end; any other starts without one.
    const record: Omit<RunRecord, 'state'> = {
      ...copied,
      output: copied.output ?? null,
      runError: copied.runError ?? null,
      endTime: copied.endTime ?? null,
      updatedAt: at,
      version: 0,
      lastSeq: 0,
      leaseOwner: null,
      leaseExpiresAt: null,
      fencingToken: 0,
    };
    return { run: record, state: new MemoryRunState(state), events: [], logs: [], items: new Map(), lastTransitionKey: null, waitingEvent: null };
  }

  #append(entry: RunEntry, bodies: RunEventBody[], at: number): void {
    for (const body of bodies) {
      const event = cloneJson(body) as RunEvent;
      event.runId = entry.run.runId;
      event.seq = entry.events.length + 1;
      event.time = at;
      entry.events.push(event);
      entry.run.lastSeq = event.seq;
      // Stored events are never mutated, and reads copy them: the log can share the entry.
      if (event.kind === 'log') entry.logs.push(event.entry);
    }
  }

  #wake(runIds: string[], at: number, lease?: { owner: string; expiresAt: number }): void {
    for (const id of runIds) {
      const target = this.#runs.get(id)?.run;
      if (!target || target.status !== 'ACTIVE') continue;
      target.readyAt = at;
      if (lease && (target.leaseOwner === null || (target.leaseExpiresAt ?? 0) <= at)) {
        target.leaseOwner = lease.owner;
        target.leaseExpiresAt = lease.expiresAt;
        target.fencingToken += 1;
      }
    }
  }

  #isClaimable(run: Omit<RunRecord, 'state'>, now: number, status: 'ACTIVE' | 'INACTIVE' = 'ACTIVE'): boolean {
    return run.status === status && run.readyAt !== null && run.readyAt <= now && (run.leaseOwner === null || (run.leaseExpiresAt ?? 0) <= now);
  }

  #lease(entry: RunEntry, owner: string, expiresAt: number): ClaimedRun {
    entry.run.leaseOwner = owner;
    entry.run.leaseExpiresAt = expiresAt;
    entry.run.fencingToken += 1;
    const run = this.#record(entry);
    return { run, lease: { runId: run.runId, owner, fencingToken: run.fencingToken, expiresAt } };
  }
}

/** Creates a memory store: fast, private to this process, gone when it exits. */
export function createMemoryStores(): Store {
  return new MemoryStore();
}
