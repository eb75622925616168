/**
 * `defineFlow({...})`: the TypeScript way to write a flow (DESIGN.md §2). It produces exactly the
 * JSON definition a deployed `.json` or compiled `.flow` file would, checked up front, and keeps
 * the types the entry points read (flow-types.ts).
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ValidationError } from './errors.js';
import type { ActionDeclaration, DefinedFlow, FlowDeclaration } from './flow-types.js';
import type { JsonSchema } from './model.js';
import { assertValidFlow } from './validation/validate-flow.js';

// The types of flows written here; defined in flow-types.ts so the client can import them without this module.
export type { ActionInput, ActionName, ActionOutput } from './flow-types.js';

/**
 * Validates a flow definition and returns it in its JSON form, typed as written: the `const`
 * type parameter keeps literal ids, action names and param declarations, so
 * `ActionName<typeof flow>` is `'main' | 'refund'`, `ActionInput<typeof flow>` the input `main`
 * accepts and `ActionOutput<typeof flow>` what it returns; `runAction`, `engine.startRun` and the
 * client's `runFlow` / `waitForRun` check calls against them.
 *
 * A param or output may be declared with a Standard Schema (zod 4, or any library implementing
 * Standard JSON Schema), bare or as its `schema`: it is converted to JSON Schema here (a param's
 * input type, an output's output type), so the returned object is plain JSON that can be deployed,
 * stored and drawn. A bare param is required unless its schema accepts `undefined`, and takes its
 * schema's default (zod's `.default()`); a bare output is returned.
 *
 * Throws `ValidationError` with `code === 'INVALID_DEFINITION'` and every problem in `issues`
 * (see `validateFlow`), also for a Standard Schema that cannot describe itself as JSON Schema.
 * Modules are registered with the engine, not here.
 *
 * @example
 * ```ts
 * export const refund = defineFlow({
 *   id: 'billing/refund',
 *   actions: {
 *     main: {
 *       params: { orderId: { type: 'text', required: true }, amount: z.number().positive().optional() },
 *       outputs: { refunded: { type: 'boolean', returned: true } },
 *       startAt: 'done',
 *       steps: { done: { stepType: 'SET', target: '$.outputs.refunded', expression: 'true' } },
 *     },
 *   },
 * });
 * ```
 */
export function defineFlow<const T extends FlowDeclaration>(definition: T): DefinedFlow<T> {
  const actions = Object.entries(definition.actions ?? {});
  const converts = actions.some(([, action]) => hasStandardSchema(action));
  const json = converts ? { ...definition, actions: Object.fromEntries(actions.map(([name, action]) => [name, toJsonAction(action, `actions.${name}`)])) } : definition;
  assertValidFlow(json);
  return json as unknown as DefinedFlow<T>;
}

function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return typeof value === 'object' && value !== null && '~standard' in value && typeof (value as StandardSchemaV1)['~standard'] === 'object';
}

function hasStandardSchema(action: ActionDeclaration): boolean {
  const declarations = [...Object.values(action?.params ?? {}), ...Object.values(action?.outputs ?? {})];
  return declarations.some((d) => isStandardSchema(d) || (typeof d === 'object' && d !== null && 'schema' in d && isStandardSchema(d.schema)));
}

function toJsonAction(action: ActionDeclaration, path: string): unknown {
  if (typeof action !== 'object' || action === null) return action;
  const convert = (kind: 'params' | 'outputs') => {
    const declared = action[kind];
    if (typeof declared !== 'object' || declared === null) return declared;
    return Object.fromEntries(
      Object.entries(declared).map(([name, d]) => {
        const at = `${path}.${kind}.${name}`;
        const io = kind === 'params' ? 'input' : 'output';
        if (isStandardSchema(d)) {
          const schema = toJsonSchema(d, io, at);
          if (kind === 'outputs') return [name, { schema, returned: true }];
          // A schema's own default (zod's `.default()`) is the param's default: flowrun applies it when the input has none.
          return [name, { schema, required: !acceptsUndefined(d), ...(schema.default !== undefined ? { default: schema.default } : {}) }];
        }
        if (typeof d === 'object' && d !== null && 'schema' in d && isStandardSchema(d.schema)) return [name, { ...d, schema: toJsonSchema(d.schema, io, `${at}.schema`) }];
        return [name, d];
      }),
    );
  };
  return { ...action, ...(action.params !== undefined ? { params: convert('params') } : {}), ...(action.outputs !== undefined ? { outputs: convert('outputs') } : {}) };
}

/** The JSON Schema of a Standard Schema (Standard JSON Schema's converter), without its `$schema`. */
function toJsonSchema(schema: StandardSchemaV1, io: 'input' | 'output', path: string): JsonSchema {
  const props = schema['~standard'] as StandardSchemaV1['~standard'] & { jsonSchema?: { input?: (o: { target: string }) => JsonSchema; output?: (o: { target: string }) => JsonSchema } };
  const convert = props.jsonSchema?.[io];
  if (typeof convert !== 'function') {
    throw new ValidationError('INVALID_DEFINITION', [{ path, message: `a ${props.vendor} schema that cannot describe itself as JSON Schema (Standard JSON Schema); declare this one in JSON Schema` }]);
  }
  try {
    const { $schema: _meta, ...json } = convert({ target: 'draft-2020-12' });
    return json;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ValidationError('INVALID_DEFINITION', [{ path, message: `this ${props.vendor} schema has no JSON Schema form (${why})` }]);
  }
}

/** A bare param schema makes an optional param when it accepts `undefined` (zod's `.optional()`); an async answer counts as no. */
function acceptsUndefined(schema: StandardSchemaV1): boolean {
  try {
    const result = schema['~standard'].validate(undefined);
    return !(result instanceof Promise) && result.issues === undefined;
  } catch {
    return false;
  }
}
