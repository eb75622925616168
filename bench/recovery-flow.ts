/**
 * The flow of the recovery scenario (recovery.ts): a step, a MODULE step that blocks forever in
 * the process that gets killed (and returns at once in the one that resumes), a last step.
 */
import type { FlowDefinition } from '../src/index.js';

/** `bench/recover`: s1 COMPUTE → s2 MODULE `bench/block` → s3 COMPUTE. */
export const recoveryFlow: FlowDefinition = {
  id: 'bench/recover',
  actions: {
    main: {
      params: { i: { type: 'number', required: true } },
      startAt: 's1',
      steps: {
        s1: { stepType: 'COMPUTE', expression: '{s: 1, i: input.i}', defaultNextStepInstanceId: 's2' },
        s2: { stepType: 'MODULE', moduleIdentifier: 'bench/block', inputMappings: { i: '$.input.i' }, defaultNextStepInstanceId: 's3' },
        s3: { stepType: 'COMPUTE', expression: '{s: 3, i: input.i, resumed: steps.s2.resumed}' },
      },
    },
  },
};
