/**
 * `defineModule({input, output, run})`: a module whose input and result are described by Standard
 * Schemas (zod 4, Valibot, ArkType, …), checked at run time and typed in `run(input, ctx)`.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { StepFailedError, ValidationError, type ValidationIssue } from '../errors.js';
import type { Module, ModuleContext, ModuleDefinition, ModuleRegistration } from './types.js';

/** What {@link defineModule} returns: a {@link Module} (register it like any other) that keeps its definition. */
export type DefinedModule<I = Record<string, unknown>, O = unknown> = Module & { readonly definition: ModuleDefinition<I, O> };


/**
 * Makes a module of `definition`. Each call validates the step's input against `input`: a wrong
 * input fails the step with INVALID_INPUT naming each bad field (`input.customer.name: Expected
 * string`), and `run` is not called. `run` then gets the schema's output (typed), and its result is
 * validated against `output`: a wrong result fails the step with MODULE_INVALID_OUTPUT naming the
 * field. Neither failure is retried — the same input would fail the same way — but a `catch` can
 * take them. A schema whose validation is asynchronous is awaited.
 *
 * @example
 * ```ts
 * export const charge = defineModule({
 *   input: z.object({ amount: z.number().positive(), currency: z.enum(['EUR', 'USD']) }),
 *   output: z.object({ chargeId: z.string() }),
 *   run: async ({ amount, currency }, ctx) => ({ chargeId: await psp.charge(amount, currency, ctx.idempotencyKey) }),
 * });
 * createEngine({ stores, modules: { 'billing/charge': charge } });
 * ```
 */
export function defineModule<I = Record<string, unknown>, O = unknown>(definition: ModuleDefinition<I, O>): DefinedModule<I, O> {
  const { input: inputSchema, output: outputSchema, run } = definition;
  if (typeof run !== 'function') throw new ValidationError('INVALID_DEFINITION', [{ path: 'run', message: 'a module definition needs a "run" function' }]);
  const module = async (raw: Record<string, unknown>, ctx: ModuleContext): Promise<unknown> => {
    const input = inputSchema ? await checked(inputSchema, raw, 'input', 'INVALID_INPUT', ctx) : (raw as I);
    const result = await run(input as I, ctx);
    return outputSchema ? await checked(outputSchema, result, 'output', 'MODULE_INVALID_OUTPUT', ctx) : result;
  };
  return Object.assign(module, { definition });
}

/** Normalizes a registry of modules: definition objects become modules (see {@link defineModule}); functions stay as they are. */
export function toModules(registrations: Readonly<Record<string, ModuleRegistration>> | undefined): Record<string, Module> {
  const modules: Record<string, Module> = {};
  for (const [id, registration] of Object.entries(registrations ?? {})) {
    modules[id] = typeof registration === 'function' ? registration : (defineModule(registration as ModuleDefinition) as Module);
  }
  return modules;
}

async function checked<T>(schema: StandardSchemaV1<unknown, T>, value: unknown, root: 'input' | 'output', code: 'INVALID_INPUT' | 'MODULE_INVALID_OUTPUT', ctx: ModuleContext): Promise<T> {
  const result = await schema['~standard'].validate(value);
  if (!result.issues) return result.value;
  const issues: ValidationIssue[] = result.issues.map((issue) => ({ path: pathOf(root, issue.path), message: issue.message }));
  const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`);
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  const what = root === 'input' ? 'the step input of module' : 'the result of module';
  return Promise.reject(
    new StepFailedError(code, `${what} in step ${ctx.stepId} does not fit its schema: ${shown.join('; ')}${more}`, {
      runId: ctx.runId,
      stepId: ctx.stepId,
      retryable: false,
      details: { issues },
    }),
  );
}

/** `input.lines[0].sku`: a dotted path with list indexes, as validation issues of definitions read. */
function pathOf(root: string, path: StandardSchemaV1.Issue['path']): string {
  let out = root;
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  }
  return out;
}
