/**
 * The shape of a flow definition (DESIGN.md §2) as one zod schema: which fields each object has,
 * which are required, their JSON types, enums, bounds and patterns. It is the single source of
 * that shape: `validateFlow` takes its field lists from here, and the JSON Schema editors use (`flowrun/flow.schema.json`, {@link flowJsonSchema}) is
 * generated from it. What needs more than a shape — references between steps, expressions that
 * parse, "exactly one of", the rules of calls — stays in the hand-written checks beside it.
 */
import { z } from 'zod';
import { FLOW_ID_PATTERN } from './field-checker.js';

/** The module a START_FLOW_EXECUTION step runs (seed 004). */
export const START_FLOW_EXECUTION_MODULE = 'system/start-flow-execution';
/** Event names: 1-200 letters, digits, `_`, `.`, `:`, `/` or `-`. */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,199}$/;
/** The simple var types. */
export const VAR_TYPES = ['text', 'number', 'boolean', 'map', 'list', 'any'] as const;

/** Names of the parts the JSON Schema lists in `$defs` (each used more than once, or worth a name in an editor). */
const parts = z.registry<{ id: string }>();
const part = <T extends z.ZodType>(id: string, schema: T): T => {
  parts.add(schema, { id });
  return schema;
};

const text = (description: string) => z.string().describe(description);
const expression = (description: string) => z.string().describe(`${description} (an expression: a safe JavaScript subset)`);
const nonEmpty = (description: string) => z.string().min(1).describe(description);
/** A declared name: not empty, and not one that reaches an object's prototype. */
const name = z.string().min(1).regex(/^(?!(?:__proto__|constructor|prototype)$)/);
const named = <T extends z.ZodType>(value: T) => z.record(name, value);
const jsonSchema = z.record(z.string(), z.unknown()).describe('a JSON Schema (draft 2020-12) object');
const flowId = z.string().regex(FLOW_ID_PATTERN).describe('a flow id such as "orders/process" or "@myorg/orders/validate"');
const stepName = text('the name of a step of this graph');

const typeRef = {
  type: z.enum(VAR_TYPES).optional().describe('a simple type'),
  schema: jsonSchema.optional(),
  collection: text('a class of "classes": the value is a list of that class').optional(),
};
const description = text('what it is for').optional();
const defaultValue = z.unknown().optional().describe('the value when none is given; must fit the type');

/** Shapes of the declarations of vars, params, outputs and the fields an ASK step generates. */
export const TYPE_REF_SHAPES = {
  var: part('Var', z.strictObject({ ...typeRef, default: defaultValue, description })),
  param: part('Param', z.strictObject({ ...typeRef, required: z.boolean().optional().describe('the caller must give it (unless it has a default)'), default: defaultValue, description })),
  output: part('Output', z.strictObject({
    ...typeRef,
    returned: z.boolean().optional().describe('part of the run\'s result, mappable by a caller'),
    streamable: z.boolean().optional().describe('writes reach callers and watchers while the run goes on (returned outputs only)'),
    default: defaultValue,
    description,
  })),
  field: part('Field', z.strictObject({ ...typeRef, description })),
};

/** A step's `retry` policy. */
export const RETRY_SHAPE = part('Retry', z.strictObject({
  maxAttempts: z.number().int().min(1).describe('attempts in all, the first included'),
  backoffMs: z.number().min(0).optional().describe('wait before the first retry'),
  backoffRate: z.number().min(1).optional().describe('multiplies the wait after each retry'),
  maxBackoffMs: z.number().min(0).optional(),
  errorEquals: z.array(nonEmpty('an error code')).min(1).optional().describe('codes to retry; absent or ["*"]: every retryable error'),
}));
/** One clause of a step's `catch`. */
export const CATCH_SHAPE = z.strictObject({ errorEquals: z.array(nonEmpty('an error code, or "*"')).min(1), next: stepName });
/** One transition of a DECIDE step. */
export const TRANSITION_SHAPE = z.strictObject({ condition: expression('true to take this transition'), nextStepInstanceId: stepName });
/** One return mapping of a RUN_FLOW step. */
export const RETURN_MAPPING_SHAPE = z.strictObject({
  output: nonEmpty('a returned output of the callee'),
  target: nonEmpty('where it lands in the caller, such as "$.vars.lines"'),
  mode: z.enum(['replace', 'merge']).optional(),
});
/** Where a compiled step is written (`source`). */
export const SOURCE_SHAPE = z.strictObject({ file: z.string().optional(), line: z.number().int().min(0), column: z.number().int().min(0).optional() });

/** Fields every step may carry, `stepType` first. */
export const STEP_BASE_SHAPE = {
  stepType: z.string(),
  stepInstanceId: text('equal to the step\'s key when given').optional(),
  displayName: z.string().optional(),
  literals: z.record(z.string(), z.unknown()).optional().describe('constant input, merged under inputMappings'),
  inputMappings: z.record(z.string(), z.string()).optional().describe('input path → "$…" JSONPath or expression'),
  outputMappings: z.record(z.string(), z.string()).optional().describe('context target ("$.vars.x") → "$…" JSONPath into the output, or expression'),
  defaultNextStepInstanceId: stepName.optional(),
  retry: RETRY_SHAPE.optional(),
  catch: z.array(CATCH_SHAPE).optional(),
  timeoutMs: z.number().gt(0).optional(),
  source: SOURCE_SHAPE.optional(),
};

const flowVersion = z.union([z.number().int().min(1), z.literal('LATEST_PUBLISHED'), z.string().regex(/^[1-9]\d*$/)]);

/** The fields each step type has besides {@link STEP_BASE_SHAPE}. */
export const STEP_TYPE_SHAPES = {
  COMPUTE: { expression: expression('the step\'s output') },
  DECIDE: { transitions: z.array(TRANSITION_SHAPE).min(1).describe('the first true condition wins, else defaultNextStepInstanceId') },
  RUN_FLOW: {
    subflow: text('a subflow of this flow (call-and-return in the same run)').optional(),
    flowDefinitionId: flowId.optional(),
    flowVersion: flowVersion.optional(),
    action: z.string().optional(),
    async: z.boolean().optional(),
    runAs: z.string().optional(),
    returnMappings: z.array(RETURN_MAPPING_SHAPE).optional(),
  },
  GOTO: { subflow: text('the subflow that replaces the current frame') },
  START_FLOW_EXECUTION: { moduleIdentifier: z.literal(START_FLOW_EXECUTION_MODULE).optional(), runAs: z.string().optional() },
  ASK: {
    model: z.string().regex(/:/).describe('"provider:model", such as "anthropic:claude-sonnet-4-6"'),
    task: expression('the task given to the model').optional(),
    returns: named(TYPE_REF_SHAPES.field).describe('the fields to generate'),
    assuming: z.record(z.string(), z.unknown()).optional(),
  },
  MODULE: { moduleIdentifier: nonEmpty('the identifier of a registered module') },
  SET: { target: nonEmpty('a context target such as "$.vars.count"'), expression: expression('the value') },
  SUCCEED: { expression: expression('the frame\'s result').optional() },
  FAIL: { code: z.string().optional(), description: z.string().optional() },
  WAIT: {
    durationMs: z.number().min(0).optional(),
    until: expression('epoch milliseconds or an ISO 8601 date-time').optional(),
    event: z.string().regex(EVENT_NAME_PATTERN).optional(),
    match: z.record(z.string(), z.string()).optional(),
  },
  EMIT: { event: z.string().regex(EVENT_NAME_PATTERN), payload: expression('the payload').optional() },
} satisfies Record<string, z.ZodRawShape>;

const STEP_TYPE_NAMES = Object.keys(STEP_TYPE_SHAPES) as (keyof typeof STEP_TYPE_SHAPES)[];
const stepShape = z.discriminatedUnion(
  'stepType',
  STEP_TYPE_NAMES.map((type) => part(`${type}_step`, z.strictObject({ ...STEP_BASE_SHAPE, stepType: z.literal(type), ...STEP_TYPE_SHAPES[type] }))) as unknown as [z.ZodObject, ...z.ZodObject[]],
);
const steps = part('Steps', named(stepShape).describe('the steps, by name'));

/** An action: params, outputs and its step graph. */
export const ACTION_SHAPE = part('Action', z.strictObject({
  description,
  params: named(TYPE_REF_SHAPES.param).optional().describe('the input, by param name'),
  outputs: named(TYPE_REF_SHAPES.output).optional().describe('what the action fills, by name'),
  timeoutMs: z.number().gt(0).optional(),
  startAt: stepName,
  steps,
}));
/** A subflow: a local step graph. */
export const SUBFLOW_SHAPE = part('Subflow', z.strictObject({ description, startAt: stepName, steps }));
/** One event subscription. */
export const SUBSCRIPTION_SHAPE = z.strictObject({
  on: nonEmpty('the event name'),
  run: nonEmpty('a subflow or action of this flow'),
  runAs: nonEmpty('a service account id').optional(),
});
/** One schedule of the flow (core/schedule.ts checks the spec's values: cron, zone, durations). */
export const SCHEDULE_SHAPE = z.strictObject({
  name: nonEmpty('the schedule\'s name, unique in the flow (its id is "<flowId>#<name>")'),
  action: nonEmpty('the action each slot starts (default "main")').optional(),
  cron: nonEmpty('a cron expression of 5 or 6 fields (names like MON, ranges, steps, L and #)').optional(),
  timezone: nonEmpty('the IANA time zone the cron expression is read in (default UTC)').optional(),
  every: nonEmpty('a fixed interval instead of cron: "15m", "1h30m", "10s"').optional(),
  offset: nonEmpty('with every: shifts the slots by this much ("5m")').optional(),
  startAt: z.union([z.number(), z.string(), z.null()]).optional().describe('no slot before this time (epoch ms or ISO 8601)'),
  endAt: z.union([z.number(), z.string(), z.null()]).optional().describe('no slot after this time (epoch ms or ISO 8601)'),
  jitterMs: z.number().int().min(0).optional().describe('each slot fires up to this much later, the same delay in every engine'),
  maxRuns: z.number().int().min(1).nullable().optional().describe('stop after this many runs'),
  input: z.unknown().optional().describe('the input of every run'),
  runAs: nonEmpty('a service account the runs act as').nullable().optional(),
  overlap: z.enum(['skip', 'bufferOne', 'bufferAll', 'cancelOther', 'allowAll']).optional().describe('what a slot does while the previous run is still going (default skip)'),
  catchupWindowMs: z.number().int().min(0).optional().describe('missed slots younger than this fire after downtime; older ones are skipped, recorded'),
  pauseAfterFailures: z.number().int().min(1).nullable().optional().describe('pause after this many failed runs in a row'),
});
/** The flow's roles. */
export const ROLES_SHAPE = z.strictObject({ administrators: z.array(z.string()).optional(), starters: z.array(z.string()).optional(), viewers: z.array(z.string()).optional() });

/** The whole definition. `$schema` (an editor's pointer to this schema) and `source` are accepted as they are. */
export const FLOW_SHAPE = z
  .strictObject({
    $schema: z.string().optional(),
    id: flowId,
    title: z.string().optional(),
    description,
    classes: named(jsonSchema).optional().describe('object schemas, by class name; a collection is a list of one'),
    vars: named(TYPE_REF_SHAPES.var).optional(),
    actions: named(ACTION_SHAPE).meta({ minProperties: 1 }).describe('the entry points, by name ("main" by default)'),
    subflows: named(SUBFLOW_SHAPE).optional(),
    subscriptions: z.array(SUBSCRIPTION_SHAPE).optional(),
    schedules: z.array(SCHEDULE_SHAPE).optional().describe('the calendar this flow starts on, replaced when another version is published'),
    roles: ROLES_SHAPE.optional(),
    source: z.unknown().optional(),
  })
  .describe('A flowrun flow definition');

/** The field names of one object shape, in declaration order (what `keys` checks and lists). */
export function fieldsOf(shape: z.ZodObject | z.ZodRawShape): string[] {
  return Object.keys(shape instanceof z.ZodObject ? shape.shape : shape);
}

/**
 * The JSON Schema (draft 2020-12) of a flow definition, generated from {@link FLOW_SHAPE}: what
 * `flowrun/flow.schema.json` holds, for editors that complete and check JSON flows.
 */
export function flowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(FLOW_SHAPE, {
    target: 'draft-2020-12',
    metadata: parts,
    // The parts registry names the $defs; descriptions and other metadata stay on the schemas themselves.
    override: ({ zodSchema, jsonSchema }) => {
      const { id: _id, ...meta } = z.globalRegistry.get(zodSchema as unknown as z.ZodType) ?? {};
      Object.assign(jsonSchema, meta);
    },
  });
  return { $schema: schema.$schema, title: 'flowrun flow definition', ...schema };
}
