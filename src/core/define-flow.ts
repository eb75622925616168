/**
 * `defineFlow({...})`: the TypeScript way to write a flow (DESIGN.md §2). It produces exactly the
 * JSON definition a deployed `.json` or compiled `.flow` file would, checked up front.
 */
import { assertValidFlow } from './validation/validate-flow.js';
import type { FlowDefinition, ParamDefinition, VarType } from './model.js';

/**
 * Validates a flow definition and returns the very same object, typed as written: the `const`
 * type parameter keeps literal ids, action names and step names, so `ActionName<typeof flow>` is
 * `'main' | 'refund'` rather than `string`.
 *
 * Throws `ValidationError` with `code === 'INVALID_DEFINITION'` and every problem in `issues`
 * (see `validateFlow`). Modules are registered with the engine, not here.
 *
 * @example
 * ```ts
 * export const refund = defineFlow({
 *   id: 'billing/refund',
 *   actions: { main: { startAt: 'done', steps: { done: { stepType: 'SUCCEED' } } } },
 * });
 * ```
 */
export function defineFlow<const T extends FlowDefinition>(definition: T): T {
  assertValidFlow(definition);
  return definition;
}

/** The action names of a flow written with {@link defineFlow}. */
export type ActionName<F extends FlowDefinition> = keyof F['actions'] & string;

/** The TypeScript type of a simple var type (`text` → `string`, …). */
export type VarTypeValue<T extends VarType | undefined> = T extends 'text'
  ? string
  : T extends 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'map'
        ? Record<string, unknown>
        : T extends 'list'
          ? unknown[]
          : unknown;

type ParamValue<P> = P extends { collection: string }
  ? Record<string, unknown>[]
  : P extends { type: infer T extends VarType }
    ? VarTypeValue<T>
    : unknown;

type Params<F extends FlowDefinition, A extends ActionName<F>> = F['actions'][A] extends { params: infer P }
  ? P extends Record<string, ParamDefinition>
    ? P
    : Record<never, never>
  : Record<never, never>;

type RequiredKeys<P> = { [K in keyof P]: P[K] extends { required: true } ? (P[K] extends { default: unknown } ? never : K) : never }[keyof P];

/**
 * The input an action of a flow written with {@link defineFlow} accepts: a required param without a
 * default is a required key; `type` params map to their TypeScript type (`schema` params are `unknown`,
 * checked at run time against the schema). Undeclared keys are allowed, as at run time.
 */
export type ActionInput<F extends FlowDefinition, A extends ActionName<F> = ActionName<F>> = {
  [K in RequiredKeys<Params<F, A>> & string]: ParamValue<Params<F, A>[K]>;
} & { [K in Exclude<keyof Params<F, A>, RequiredKeys<Params<F, A>>> & string]?: ParamValue<Params<F, A>[K]> } & Record<
    string,
    unknown
  >;
