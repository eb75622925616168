/**
 * The request and response schemas of the HTTP API. The router validates requests with them and
 * the OpenAPI 3.1 document at `/openapi.json` is generated from them, so the two never disagree.
 * Bodies are strict objects: a misspelt field is refused with its name rather than ignored.
 */
import { z } from '@hono/zod-openapi';
import { RUN_STATUSES } from '../core/run.js';

const id = (what: string) => z.string().min(1).max(256).openapi({ description: what });
const names = z.array(z.string().min(1).max(256)).max(1000);
const count = z.coerce.number().int().min(0);
/** A version number or one of the selectors. */
const versionSelector = z.union([z.number().int().min(1), z.literal('LATEST'), z.literal('LATEST_PUBLISHED')]);

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'RUN_NOT_FOUND' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).openapi({ description: 'For validation errors: `issues: [{path, message}]`' }),
    }),
  })
  .openapi('Error');

export const RunSchema = z
  .object({
    runId: z.string(),
    flowId: z.string(),
    flowVersion: z.number().int(),
    actionName: z.string(),
    status: z.enum(RUN_STATUSES),
    label: z.string().nullable(),
    tags: z.array(z.string()),
    input: z.unknown(),
    output: z.unknown(),
    runError: z.object({ code: z.string(), description: z.string(), details: z.record(z.string(), z.unknown()).optional(), stepId: z.string().optional() }).nullable(),
    createdBy: z.string(),
    runOwner: z.string(),
    runAs: z.string().nullable(),
    triggeredBy: z.string().nullable().openapi({ description: 'who published the event that started the run (source "event"); the run never acts as them' }),
    source: z.string(),
    sessionId: z.string().nullable(),
    parentRunId: z.string().nullable(),
    rootRunId: z.string(),
    treeId: z.string().openapi({ description: 'the run tree: its top ancestor across calls and launches (maxRunsPerTree, cancel with tree)' }),
    detached: z.boolean(),
    depth: z.number().int(),
    monitors: z.object({ users: z.array(z.string()), groups: z.array(z.string()) }),
    managers: z.object({ users: z.array(z.string()), groups: z.array(z.string()) }),
    startTime: z.number().openapi({ description: 'ms since the epoch' }),
    endTime: z.number().nullable(),
    updatedAt: z.number(),
    timeoutMs: z.number().nullable(),
    deadline: z.number().nullable(),
    lastSeq: z.number().int().openapi({ description: 'seq of the last persisted event: resume a stream after it' }),
    flowTitle: z.string().optional().openapi({ description: "the definition's `title`, when it has one and the caller may see the flow" }),
    flowDescription: z.string().optional().openapi({ description: "the definition's `description`, when it has one and the caller may see the flow" }),
    createdByString: z.string().optional().openapi({ description: '`createdBy` for people: its display name, else its id' }),
    runOwnerString: z.string().optional().openapi({ description: '`runOwner` for people: its display name, else its id' }),
    frames: z
      .array(z.object({ graph: z.string(), at: z.string().nullable(), attempt: z.number().int(), waitingForRunId: z.string().optional() }))
      .optional()
      .openapi({ description: 'a live run (not ended): its frame stack, bottom first — the graph (`action:<name>` / `subflow:<name>`) and the step each frame executes or waits at' }),
    suspension: z
      .object({ kind: z.enum(['approval', 'timer', 'event']), stepId: z.string(), graph: z.string(), since: z.number(), reason: z.string().optional(), event: z.string().optional(), until: z.number().optional() })
      .optional()
      .openapi({ description: 'an INACTIVE run: what it waits for — an approval (with the policy\'s `reason`), a timer (`until`) or an event (`event`) — at which step, since when' }),
    childCount: z.number().int().optional().openapi({ description: 'listings with `childCounts=true`: the child runs the caller may read, among the first 20 (oldest first)' }),
    childCountIsEstimate: z.boolean().optional().openapi({ description: 'with `childCount`: true when the run has more than 20 children (`childCount` is then a lower bound)' }),
    flowDefinition: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'the definition of the version the run executes: only `GET /runs/{id}?include=flowDefinition`, and only when the caller may see the flow' }),
    dataError: z
      .object({ code: z.literal('RUN_DATA_UNREADABLE'), message: z.string() })
      .optional()
      .openapi({ description: "only in listings, on a run whose stored data cannot be read: its data fields are empty and reading it answers RUN_DATA_UNREADABLE" }),
  })
  .openapi('Run');

export const RunEventSchema = z
  .object({ kind: z.enum(['status', 'log', 'item', 'ledger', 'output']), runId: z.string(), seq: z.number().int(), time: z.number(), transient: z.boolean().optional() })
  .catchall(z.unknown())
  .openapi('RunEvent');

const FlowSourceSchema = z
  .strictObject({ fileName: z.string().min(1).max(256).optional(), text: z.string() })
  .openapi('FlowSource', { description: 'the `.flow` program a version was compiled from (at most 256 KiB of UTF-8), kept as given' });

export const FlowSchema = z
  .object({ flowId: z.string(), version: z.number().int(), definition: z.record(z.string(), z.unknown()), deployedBy: z.string(), deployedAt: z.number(), published: z.boolean(), source: FlowSourceSchema.optional() })
  .openapi('Flow');

export const FlowSummarySchema = z
  .object({ flowId: z.string(), latestVersion: z.number().int(), publishedVersion: z.number().int().nullable(), title: z.string().optional(), updatedAt: z.number() })
  .openapi('FlowSummary');

export const FlowRefSchema = z
  .object({ id: z.string(), version: z.number().int(), warnings: z.array(z.object({ path: z.string(), message: z.string() })).optional().openapi({ description: 'deploy only: what is probably wrong but was deployed, such as calls of flows not deployed yet (checked when they run)' }) })
  .openapi('FlowRef');

export const FlowIdParam = z.object({ flowId: id('flow id, URL-encoded (`orders%2Fprocess`)').openapi({ param: { name: 'flowId', in: 'path' } }) });
export const RunIdParam = z.object({ id: id('run id').openapi({ param: { name: 'id', in: 'path' } }) });

export const DeployBody = z
  .strictObject({ definition: z.record(z.string(), z.unknown()).openapi({ description: 'a FlowDefinition' }), publish: z.boolean().optional(), source: FlowSourceSchema.optional() })
  .openapi('DeployFlow');
export const PublishBody = z.strictObject({ version: z.number().int().min(1) }).openapi('PublishFlow');
export const FlowQuery = z.object({ version: z.string().regex(/^([1-9]\d{0,9}|LATEST|LATEST_PUBLISHED)$/, 'must be a version number, LATEST or LATEST_PUBLISHED').optional() });

export const StartRunBody = z
  .strictObject({
    flowId: id('the flow to start'),
    action: z.string().min(1).max(256).optional().openapi({ description: 'default `main`' }),
    version: versionSelector.optional(),
    input: z.unknown().optional(),
    label: z.string().max(1000).optional(),
    tags: z.array(z.string().min(1).max(256)).max(100).optional(),
    runMonitoringBy: names.optional(),
    runMonitoringGroups: names.optional(),
    runManagingBy: names.optional(),
    runManagingGroups: names.optional(),
    runAs: z.string().min(1).max(256).optional(),
    requestId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'must be 1-128 letters, digits, _ . : - (a UUID is best)')
      .optional()
      .openapi({ description: 'the run id to use, shared by all callers: one already taken is 409 CONFLICT ({field: "requestId"}), the same answer whoever holds it' }),
    idempotencyKey: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .openapi({ description: 'a repeated start with the same key by the same principal returns the first run (200); its run id derives from the key with a server secret' }),
    wait: z.boolean().optional().openapi({ description: 'answer 200 once the run ended (the request stays open)' }),
  })
  .openapi('StartRun');
export type StartRunBody = z.infer<typeof StartRunBody>;

const csv = (what: string) => z.string().max(10_000).optional().openapi({ description: `${what}, comma-separated` });
const time = (what: string) =>
  z
    .string()
    .regex(/^(\d{1,15}|\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?)$/, 'must be ms since the epoch or an ISO 8601 date')
    .optional()
    .openapi({ description: what });

/** A day (`2023-01-01`, UTC unless an offset follows: `2023-01-01+02:00`), an ISO 8601 time, or ms since the epoch. */
const dayOrTime = (what: string) =>
  z
    .string()
    .regex(/^(\d{1,15}|\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:?\d{2})?|\d{4}-\d{2}-\d{2}[T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)$/, 'must be a day (2023-01-01), an ISO 8601 time or ms since the epoch')
    .optional()
    .openapi({ description: what });

export const ListRunsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).optional().openapi({ description: 'page size, default 50, capped at 1,000' }),
  marker: z.string().max(2000).optional(),
  offset: count.max(10_000).optional().openapi({ description: 'skip this many runs (of those the caller may read) first, after `marker` if given; at most 10,000 (deeper pages take the marker)' }),
  markerOnly: z.enum(['true', 'false']).optional().openapi({ description: '`true`: marker pagination only — no `total` is counted and `offset` is refused' }),
  flowId: z.string().max(256).optional(),
  status: csv(`statuses (${RUN_STATUSES.join(', ')})`),
  startTime: dayOrTime('runs started on or after this day (from its first instant, UTC unless an offset is given) or this time'),
  endTime: dayOrTime('runs ended on or before this day (up to its last instant, UTC unless an offset is given) or this time'),
  startTimeFrom: time('runs started at or after'),
  startTimeTo: time('runs started before'),
  endTimeFrom: time('runs ended at or after'),
  endTimeTo: time('runs ended before'),
  label: z.string().max(1000).optional().openapi({ description: 'substring of the label' }),
  tags: csv('tags the runs carry, all of them'),
  scheduleId: z.string().min(1).max(256).optional().openapi({ description: 'runs a schedule started (they carry the tag `schedule:<id>`)' }),
  parentRunId: z.string().max(256).optional(),
  rootsOnly: z.enum(['true', 'false']).optional().openapi({ description: '`true`: only runs without a parent (roots of run trees, launched runs, event runs); excludes `parentRunId`' }),
  childCounts: z.enum(['true', 'false']).optional().openapi({ description: '`true`: each run carries `childCount` (and `childCountIsEstimate`): its child runs the caller may read' }),
  orderBy: z.enum(['startTime', 'endTime', 'start_time', 'end_time']).optional(),
  orderDir: z.enum(['asc', 'desc']).optional(),
});

export const RunPageSchema = z
  .object({
    runs: z.array(RunSchema),
    hasNextPage: z.boolean(),
    marker: z.string().nullable(),
    total: z.number().int().optional().openapi({ description: 'runs matching the filter that the caller may read (`GET /runs` unless `markerOnly`): exact below 10,000 matching runs for a system administrator, up to 1,000 for anyone else' }),
    totalIsEstimate: z.boolean().optional().openapi({ description: "true when `total` is an estimate: an administrator's reached 10,000 (a lower bound), another principal's is the readable runs among the first 1,000 matching (more matched)" }),
  })
  .openapi('RunPage');
export const GetRunQuery = z.strictObject({ include: z.literal('flowDefinition').optional().openapi({ description: '`flowDefinition`: add the definition of the version the run executes' }) });

export const UpdateRunBody = z.strictObject({ label: z.string().max(1000).nullable().optional(), tags: z.array(z.string().min(1).max(256)).max(100).optional() }).openapi('UpdateRun');
export const ApprovalsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).optional().openapi({ description: 'page size, default 50, capped at 1,000' }),
  marker: z.string().max(2000).optional(),
});
export const ApprovalPageSchema = z
  .object({
    approvals: z.array(
      z.object({
        run: RunSchema,
        stepId: z.string().openapi({ description: 'the step to name in approve / reject' }),
        graph: z.string().openapi({ description: '`action:<name>` or `subflow:<name>`' }),
        stepType: z.string().optional(),
        source: z.object({ file: z.string().optional(), line: z.number().int(), column: z.number().int().optional() }).optional().openapi({ description: 'where the step is written, for flows compiled from `.flow` files' }),
        reason: z.string().optional().openapi({ description: "the governance policy's reason for asking" }),
        since: z.number().openapi({ description: 'when the run started waiting (ms since the epoch)' }),
      }),
    ),
    hasNextPage: z.boolean(),
    marker: z.string().nullable(),
  })
  .openapi('ApprovalPage');
export const ChildrenQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).optional().openapi({ description: 'page size, default 50, capped at 1,000' }),
  marker: z.string().max(2000).optional(),
  childCounts: z.enum(['true', 'false']).optional().openapi({ description: '`true`: each run carries `childCount`, as in `GET /runs`' }),
});
export const LogsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).optional().openapi({ description: 'default 100, capped at 1,000' }), offset: count.optional() });
export const EventsQuery = z.strictObject({
  afterSeq: count.optional(),
  limit: z.coerce.number().int().min(1).optional().openapi({ description: 'default 500, capped at 1,000' }),
  kinds: z
    .string()
    .regex(/^(status|log|item|ledger|output)(,(status|log|item|ledger|output))*$/, 'must be a comma-separated list of status, log, item, ledger, output')
    .optional()
    .openapi({ description: 'only events of these kinds (`ledger`: the control-flow ledger; `log`: step visits with their timing)' }),
});
export const StreamQuery = z.object({ afterSeq: count.optional().openapi({ description: 'resume after this seq (the `Last-Event-ID` header wins)' }) });

export const LogEntrySchema = z.object({ time: z.number(), code: z.string(), description: z.string(), details: z.record(z.string(), z.unknown()).optional() }).openapi('LogEntry');

const concurrency = z.number().int().min(1).max(32).optional().openapi({ description: 'items handled at once, 1-32, default 8' });
const runIds = z.array(z.string().min(1).max(256)).min(1).max(1000);
export const CancelRunBody = z.strictObject({ tree: z.boolean().optional().openapi({ description: 'also cancel every run it started, launches included (and, for a root, refuse new runs in its tree)' }) }).openapi('CancelRun');
export const BatchStartBody = z.strictObject({ runs: z.array(StartRunBody).min(1).max(1000), concurrency }).openapi('BatchStart');
export const BatchRunIdsBody = z.strictObject({ runIds, concurrency }).openapi('BatchRunIds');
export const BatchResultsSchema = z.object({ results: z.array(z.union([z.object({ run: RunSchema }), ErrorSchema])) }).openapi('BatchResults');

export const PublishEventBody = z.strictObject({ name: z.string().min(1).max(256), payload: z.unknown().optional(), eventId: z.string().min(1).max(256).optional() }).openapi('PublishEvent');
export const DecisionBody = z.strictObject({ stepId: z.string().min(1).max(256), comment: z.string().max(10_000).optional() }).openapi('Decision');
