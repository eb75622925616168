/**
 * `.flow` programs with flow validator problems, written in any of the seven languages from the
 * language's own keywords, and the messages each should produce (as keys and values, rendered in
 * English or in the program's language) — for the tests of localized validator messages.
 */
import { msg, renderMessage, type LocalizableMessage } from '../../src/core/validation/messages.js';
import type { KeywordKey, KeywordTable } from '../../src/dsl/keywords/keyword-table.js';

const w = (t: KeywordTable, key: KeywordKey): string => t.words[key][0]!;

/** A problem the validator should report, on a line of the program. */
export interface ExpectedProblem {
  line: number;
  message: LocalizableMessage;
}

/**
 * A program that does not compile because of the validator only: a param default of the wrong
 * type, a bad expression, a read of a step that does not exist, a model id of the wrong shape, a
 * call of a machine id that cannot be one, an event name that cannot be one.
 */
export function programWithInvalidDefinition(t: KeywordTable): { text: string; problems: ExpectedProblem[] } {
  const text = [
    `// language: ${t.language}`,
    `${w(t, 'machine')} probe`,
    `  ${w(t, 'accepts')}`,
    `    limit ${w(t, 'as')} ${w(t, 'number')}, ${w(t, 'default')} "ten"`,
    `  ${w(t, 'implements')}`,
    `    ${w(t, 'compute')} total 1 +* 2`,
    `    ${w(t, 'compute')} next steps.totl.value`,
    `    ${w(t, 'ask')} summary, ${w(t, 'using')}: "gpt4"`,
    `      ${w(t, 'returns')} answer ${w(t, 'as')} ${w(t, 'text')}`,
    `    ${w(t, 'action')} refund ${w(t, 'call')} machine: "billing/../refund"`,
    `    ${w(t, 'wait')} paid, ${w(t, 'on')}: "payment received!"`,
    '',
  ].join('\n');
  const steps = 'total, next, summary, refund, paid';
  return {
    text,
    problems: [
      { line: 4, message: msg('paramDefaultMismatch', { name: 'limit', problem: msg('valueExpectedType', { types: msg('typeNumber'), value: '"ten"', schema: msg('schemaAt', { pointer: '#/type' }) }) }) },
      { line: 6, message: msg('exprAt', { problem: msg('jsepExpectedAfter', { token: '+' }), column: 4, source: '1 +* 2' }) },
      { line: 7, message: msg('noSuchStep', { written: 'steps.totl', source: '"steps.totl.value"', suggestion: msg('didYouMean', { name: 'total' }), known: steps }) },
      { line: 8, message: msg('modelFormat', { value: '"gpt4"' }) },
      { line: 10, message: msg('invalidFlowId', { value: '"billing/../refund"' }) },
      { line: 11, message: msg('invalidEventName', { value: '"payment received!"' }) },
    ],
  };
}

/** The machine `programWithCalls` calls: its `main` action needs `order_id`. */
export const REFUND_FLOW = {
  id: 'billing/refund',
  actions: { main: { params: { order_id: { type: 'text', required: true } }, startAt: 'done', steps: { done: { stepType: 'SUCCEED' } } } },
};

/**
 * A program that compiles, with problems `flowrun check` finds beside it: a call that leaves a
 * required param of the called machine unbound (an error), a call of a machine not deployed
 * anywhere and a read of an input no param declares (warnings).
 */
export function programWithCalls(t: KeywordTable): { text: string; errors: ExpectedProblem[]; warnings: ExpectedProblem[] } {
  const text = [
    `// language: ${t.language}`,
    `${w(t, 'machine')} caller`,
    `  ${w(t, 'accepts')}`,
    `    amount ${w(t, 'as')} ${w(t, 'number')}`,
    `  ${w(t, 'implements')}`,
    `    ${w(t, 'action')} refund ${w(t, 'call')} machine: "billing/refund" reason: "late"`,
    `    ${w(t, 'action')} notify ${w(t, 'call')} machine: "mail/send"`,
    `    ${w(t, 'compute')} total input.amout + 1`,
    '',
  ].join('\n');
  return {
    text,
    errors: [{ line: 6, message: msg('paramNotBound', { name: 'order_id', action: 'main', flow: 'billing/refund', prefix: '', note: '' }) }],
    warnings: [
      { line: 8, message: msg('noSuchParam', { written: 'input.amout', source: '"input.amout + 1"', suggestion: msg('didYouMean', { name: 'amount' }), known: 'amount' }) },
      { line: 7, message: msg('flowNotDeployed', { flow: 'mail/send' }) },
    ],
  };
}

/** A problem's message in a language. */
export function say(message: LocalizableMessage, t: KeywordTable): string {
  return renderMessage(message, t.validation);
}
