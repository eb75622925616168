/**
 * The issue-3 workloads as flowrun flows, shaped like the DBOS peer's workflows
 * (shared/bench/peers/dbos/bench.mjs):
 *
 * - `bench/child`: 3 steps, each returning a small object;
 * - `bench/parent-sync`: 1 step, a call of `bench/child` that waits for it (RUN_FLOW
 *   flowDefinitionId: a child run), 1 more step; returns the last step's object, which carries
 *   the child's result so the driver can check it;
 * - `bench/parent-async`: launches `bench/child` fire-and-forget (RUN_FLOW async) and returns
 *   the launched run's id;
 * - `bench/steps-<n>`: one run of n sequential steps.
 *
 * A step is a MODULE step calling a trivial TypeScript function (the counterpart of DBOS's
 * `runStep(async () => ({...}))`: user code the engine checkpoints), or, with stepKind
 * `compute`, a COMPUTE step evaluating an object template (no user code, so no StepStarted
 * checkpoint before it runs).
 */
import type { FlowDefinition, Module, StepDefinition } from '../src/index.js';

/** Which kind of step the workloads use. */
export type StepKind = 'module' | 'compute';

/** The module every MODULE step of the workloads calls: returns a small object, like the peer's runStep. */
export const benchModules: Record<string, Module> = {
  'bench/step': (input) => ({ s: input.s, i: input.i, ...(input.child !== undefined ? { child: input.child } : {}) }),
};

/** A step returning `{s, i}` (plus `child` when `withChild`), then going to `next`. */
function step(kind: StepKind, s: number, next: string | undefined, withChild = false): StepDefinition {
  const base = next === undefined ? {} : { defaultNextStepInstanceId: next };
  if (kind === 'compute') {
    return { stepType: 'COMPUTE', expression: withChild ? `{s: ${s}, i: input.i, child: steps.call}` : `{s: ${s}, i: input.i}`, ...base };
  }
  return {
    stepType: 'MODULE',
    moduleIdentifier: 'bench/step',
    literals: { s },
    inputMappings: withChild ? { i: '$.input.i', child: '$.steps.call' } : { i: '$.input.i' },
    ...base,
  };
}

const params = { i: { type: 'number' as const, required: true } };

/** The four flows of the workloads, to deploy (published) before measuring. */
export function benchFlows(kind: StepKind, stepsPerRun = 100): FlowDefinition[] {
  const steps: Record<string, StepDefinition> = {};
  for (let j = 0; j < stepsPerRun; j++) steps[`s${j}`] = step(kind, j, j + 1 < stepsPerRun ? `s${j + 1}` : undefined);
  return [
    {
      id: 'bench/child',
      actions: { main: { params, startAt: 'c1', steps: { c1: step(kind, 1, 'c2'), c2: step(kind, 2, 'c3'), c3: step(kind, 3, undefined) } } },
    },
    {
      id: 'bench/parent-sync',
      actions: {
        main: {
          params,
          startAt: 'p1',
          steps: {
            p1: step(kind, 1, 'call'),
            call: { stepType: 'RUN_FLOW', flowDefinitionId: 'bench/child', inputMappings: { i: '$.input.i' }, defaultNextStepInstanceId: 'p2' },
            p2: step(kind, 2, undefined, true),
          },
        },
      },
    },
    {
      id: 'bench/parent-async',
      actions: {
        main: { params, startAt: 'launch', steps: { launch: { stepType: 'RUN_FLOW', flowDefinitionId: 'bench/child', async: true, inputMappings: { i: '$.input.i' } } } },
      },
    },
    { id: `bench/steps-${stepsPerRun}`, actions: { main: { params, startAt: 's0', steps } } },
    { id: 'bench/steps-1', actions: { main: { params, startAt: 's0', steps: { s0: step(kind, 0, undefined) } } } },
  ];
}

/** Throws unless `output` is what bench/parent-sync returns for input `i`. */
export function checkParentSync(output: unknown, i: number): void {
  const o = output as { s?: number; i?: number; child?: { s?: number; i?: number } } | null;
  if (!o || o.s !== 2 || o.i !== i || o.child?.s !== 3 || o.child.i !== i) throw new Error(`bad parent-sync result for ${i}: ${JSON.stringify(output)}`);
}

/** Throws unless `output` is what bench/parent-async returns: the launched run's id. */
export function checkParentAsync(output: unknown): string {
  const id = (output as { startedFlowExecutionId?: unknown } | null)?.startedFlowExecutionId;
  if (typeof id !== 'string' || id === '') throw new Error(`bad parent-async result: ${JSON.stringify(output)}`);
  return id;
}
