/**
 * The types a flow written in TypeScript carries (DESIGN.md §2): what `defineFlow` accepts (the
 * JSON form, with a Standard Schema such as zod allowed where a param or output takes a JSON
 * Schema), and what it tells the entry points — the action names, each action's input and
 * output. Types only: nothing here exists at run time.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { ActionDefinition, FlowDefinition, JsonSchema, OutputDefinition, ParamDefinition, VarType } from './model.js';

/** A param or output declaration's `schema`: a JSON Schema, or a Standard Schema (zod 4, …) that can describe itself as one. */
export type SchemaDeclaration = JsonSchema | StandardSchemaV1;

/** An action param as `defineFlow` accepts it: the JSON form with any {@link SchemaDeclaration}, or a bare Standard Schema. */
export type ParamDeclaration = (Omit<ParamDefinition, 'schema'> & { schema?: SchemaDeclaration }) | StandardSchemaV1;

/** An action output as `defineFlow` accepts it: the JSON form with any {@link SchemaDeclaration}, or a bare Standard Schema (a returned output). */
export type OutputDeclaration = (Omit<OutputDefinition, 'schema'> & { schema?: SchemaDeclaration }) | StandardSchemaV1;

/** An action as `defineFlow` accepts it. */
export type ActionDeclaration = Omit<ActionDefinition, 'params' | 'outputs'> & {
  params?: Record<string, ParamDeclaration>;
  outputs?: Record<string, OutputDeclaration>;
};

/** A flow as `defineFlow` accepts it: a {@link FlowDefinition} whose params and outputs may use Standard Schemas. */
export type FlowDeclaration = Omit<FlowDefinition, 'actions'> & { actions: Record<string, ActionDeclaration> };

/** What a declaration becomes in the JSON form: a Standard Schema turns into its JSON Schema. */
type JsonDeclaration<D> = D extends StandardSchemaV1
  ? { schema: JsonSchema; required?: boolean; returned?: boolean }
  : D extends { schema: StandardSchemaV1 }
    ? Omit<D, 'schema'> & { schema: JsonSchema }
    : D;

type JsonAction<X> = {
  [K in keyof X]: K extends 'params' | 'outputs' ? { [N in keyof X[K]]: JsonDeclaration<X[K][N]> } : X[K];
};

/**
 * What `defineFlow` returns: the flow in its JSON form (Standard Schemas converted to JSON Schema),
 * remembering the declaration it came from so {@link ActionInput} and {@link ActionOutput} can read
 * the Standard Schemas' types. `~declaration` never exists at run time.
 */
export type DefinedFlow<T extends FlowDeclaration> = { [K in keyof T]: K extends 'actions' ? { [A in keyof T[K]]: JsonAction<T[K][A]> } : T[K] } & {
  readonly '~declaration'?: T;
};

/** The declaration behind a flow: what `defineFlow` was given, or the flow itself (a plain definition or JSON import). */
type DeclarationOf<F> = F extends { readonly '~declaration'?: infer T } ? (unknown extends T ? F : T) : F;

type ActionsOf<F> = DeclarationOf<F> extends { actions: infer A } ? A : never;

/** The action names of a flow: `'main' | 'refund'` for a flow written with `defineFlow`, `string` for one known only at run time. */
export type ActionName<F> = F extends string ? string : keyof ActionsOf<F> & string;

/** True for a flow whose action names are known to the compiler (written with `defineFlow`, or a JSON import). */
export type IsTypedFlow<F> = F extends string ? false : string extends ActionName<F> ? false : true;

/** The action a call runs when it names none: `main` when the flow has one. */
export type DefaultActionName<F> = IsTypedFlow<F> extends true ? ('main' extends ActionName<F> ? 'main' : ActionName<F>) : string;

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

// Bounds how deep a JSON Schema is read into a type, so a recursive or huge schema cannot stall the compiler.
type Deeper = [never, 0, 1, 2, 3, 4, 5, 6, 7, 8];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The TypeScript type a JSON Schema describes, for the keywords that shape a value: `type` (or a
 * list of types), `properties` with `required`, `items`, `enum`, `const`, `anyOf` / `oneOf`.
 * Anything else (formats, bounds, `$ref`) narrows nothing: it is checked at run time.
 */
export type JsonSchemaValue<S, D extends number = 8> = [D] extends [never]
  ? unknown
  : S extends { const: infer C }
    ? C
    : S extends { enum: readonly (infer E)[] }
      ? E
      : S extends { anyOf: readonly (infer U)[] }
        ? JsonSchemaValue<U, Deeper[D]>
        : S extends { oneOf: readonly (infer U)[] }
          ? JsonSchemaValue<U, Deeper[D]>
          : S extends { type: readonly (infer T)[] }
            ? TypeNameValue<T, S, D>
            : S extends { type: infer T }
              ? TypeNameValue<T, S, D>
              : unknown;

type TypeNameValue<T, S, D extends number> = T extends 'string'
  ? string
  : T extends 'number' | 'integer'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? S extends { items: infer I }
            ? JsonSchemaValue<I, Deeper[D]>[]
            : unknown[]
          : T extends 'object'
            ? ObjectValue<S, D>
            : unknown;

type RequiredOf<S> = S extends { required: readonly (infer R)[] } ? R : never;
type ObjectValue<S, D extends number> = S extends { properties: infer P }
  ? Simplify<
      { -readonly [K in keyof P as K extends RequiredOf<S> ? K : never]: JsonSchemaValue<P[K], Deeper[D]> } & {
        -readonly [K in keyof P as K extends RequiredOf<S> ? never : K]?: JsonSchemaValue<P[K], Deeper[D]>;
      }
    >
  : Record<string, unknown>;

type ClassesOf<F> = DeclarationOf<F> extends { classes: infer C } ? C : Record<never, never>;

/** The value of one declaration (`io` picks a Standard Schema's input or output type). */
type DeclaredValue<D, Classes, IO extends 'input' | 'output'> = D extends StandardSchemaV1
  ? IO extends 'input'
    ? StandardSchemaV1.InferInput<D>
    : StandardSchemaV1.InferOutput<D>
  : D extends { schema: infer S }
    ? S extends StandardSchemaV1
      ? IO extends 'input'
        ? StandardSchemaV1.InferInput<S>
        : StandardSchemaV1.InferOutput<S>
      : JsonSchemaValue<S>
    : D extends { collection: infer C }
      ? (C extends keyof Classes ? JsonSchemaValue<Classes[C]> : Record<string, unknown>)[]
      : D extends { type: infer T }
        ? T extends VarType
          ? VarTypeValue<T>
          : unknown
        : unknown;

type ActionOf<F, A> = A extends keyof ActionsOf<F> ? ActionsOf<F>[A] : never;
type ParamsOf<F, A> = ActionOf<F, A> extends { params: infer P } ? P : Record<never, never>;
type OutputsOf<F, A> = ActionOf<F, A> extends { outputs: infer O } ? O : Record<never, never>;

/** A param the caller must give: required without a default, or a bare Standard Schema that refuses `undefined`. */
type IsRequiredParam<D> = D extends StandardSchemaV1
  ? undefined extends StandardSchemaV1.InferInput<D>
    ? false
    : true
  : D extends { required: true }
    ? D extends { default: unknown }
      ? false
      : true
    : false;

type RequiredParams<P> = { [K in keyof P]: IsRequiredParam<P[K]> extends true ? K : never }[keyof P] & string;

/**
 * The input an action accepts: each required param without a default is a required key, the other
 * params optional keys; a param's type comes from its `type`, its JSON `schema`, its Standard
 * Schema's input type or its `collection`'s class. Undeclared keys are allowed, as at run time.
 * For a flow known only at run time (`ActionName<F>` is `string`) it is `Record<string, unknown>`.
 *
 * @example
 * type RefundInput = ActionInput<typeof refund, 'main'>; // { orderId: string; amount?: number }
 */
export type ActionInput<F, A extends ActionName<F> = DefaultActionName<F> & ActionName<F>> =
  IsTypedFlow<F> extends true
    ? Simplify<
        { [K in RequiredParams<ParamsOf<F, A>>]: DeclaredValue<ParamsOf<F, A>[K], ClassesOf<F>, 'input'> } & {
          [K in Exclude<keyof ParamsOf<F, A>, RequiredParams<ParamsOf<F, A>>> & string]?: DeclaredValue<ParamsOf<F, A>[K], ClassesOf<F>, 'input'>;
        }
      > &
        Record<string, unknown>
    : Record<string, unknown>;

type IsReturned<D> = D extends StandardSchemaV1 ? true : D extends { returned: true } ? true : false;
type ReturnedOutputs<O> = { [K in keyof O]: IsReturned<O[K]> extends true ? K : never }[keyof O] & string;

/**
 * What a successful run of an action returns (`result.output`): an object of its returned outputs —
 * each `null` when the run never wrote it and it has no `default` — or, for an action that returns
 * no declared output, the value of its last step (`unknown`). `unknown` for a flow known only at run time.
 */
export type ActionOutput<F, A extends ActionName<F> = DefaultActionName<F> & ActionName<F>> =
  IsTypedFlow<F> extends true
    ? [ReturnedOutputs<OutputsOf<F, A>>] extends [never]
      ? unknown
      : Simplify<{
          [K in ReturnedOutputs<OutputsOf<F, A>>]: DeclaredValue<OutputsOf<F, A>[K], ClassesOf<F>, 'output'> | (OutputsOf<F, A>[K] extends { default: unknown } ? never : null);
        }>
    : unknown;

/** The `input` field of typed options: required when the action has a required param, optional otherwise. */
export type InputField<F, A extends ActionName<F>> =
  IsTypedFlow<F> extends true
    ? Record<never, never> extends ActionInput<F, A>
      ? { input?: ActionInput<F, A> }
      : { input: ActionInput<F, A> }
    : { input?: unknown };
