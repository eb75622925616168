/**
 * The harness under `node:test` (run by harness-runners.test.ts as `node --import tsx --test`):
 * the same flow and assertions a Vitest or Jest test would write, with no Vitest anywhere.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineFlow } from '../../src/index.js';
import { createFlowTest } from '../../src/testing/index.js';

const DAY_MS = 24 * 60 * 60 * 1000;

const reminder = defineFlow({
  id: 'crm/reminder',
  actions: {
    main: {
      params: { customer: { type: 'text', required: true } },
      outputs: { sent: { type: 'boolean', returned: true } },
      startAt: 'wait',
      steps: {
        wait: { stepType: 'WAIT', durationMs: 14 * DAY_MS, defaultNextStepInstanceId: 'send' },
        send: { stepType: 'MODULE', moduleIdentifier: 'mail/send', retry: { maxAttempts: 3, backoffMs: 60_000, backoffRate: 2 }, outputMappings: { '$.outputs.sent': '$.ok' } },
      },
    },
  },
});

test('a 14-day reminder with retries runs in virtual time under node:test', async () => {
  let tries = 0;
  const t = createFlowTest({ modules: { 'mail/send': () => (++tries < 2 ? Promise.reject(new Error('smtp down')) : { ok: true }) } });
  const result = await t.run({ flow: reminder, input: { customer: 'ada' } });
  assert.equal(result.status, 'SUCCEEDED');
  assert.deepEqual(result.output, { sent: true });
  await t.expectSteps(result.requestId, ['wait', 'send']);
  assert.deepEqual(t.calls('mail/send').map((c) => c.at - Date.UTC(2026, 0, 1)), [14 * DAY_MS, 14 * DAY_MS + 60_000]);
  await assert.rejects(t.expectSteps(result.requestId, ['send']), { name: 'AssertionError' });
  await t.close();
});
