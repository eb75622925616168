/**
 * Checks a flow definition's `schedules` (issue 17): each a named schedule of one of the flow's
 * actions, its spec and policies checked the way the API checks them (core/schedule.ts), every
 * problem naming its path (`schedules[0].timezone: unknown time zone "Mars/Base" …`).
 */
import { describeValue, joinPath } from '../describe-value.js';
import type { ValidationIssue } from '../errors.js';
import { SCHEDULE_SHAPE, fieldsOf } from './flow-shape.js';
import { isScheduleName, scheduleIssues, type ScheduleInput } from '../schedule.js';
import { issueOf, msg } from './messages.js';

// The fields come from the one shape of a definition (flow-shape.ts), which the editors' JSON Schema is generated from too.
const KEYS = fieldsOf(SCHEDULE_SHAPE);

/** The problems of a `schedules` value, given the flow's action names; empty when it is fine. */
export function checkScheduleDeclarations(schedules: unknown, actions: readonly string[]): ValidationIssue[] {
  if (!Array.isArray(schedules)) return [{ path: 'schedules', message: `expected a list of schedules, got ${describeValue(schedules)}` }];
  const issues: ValidationIssue[] = [];
  const names = new Set<string>();
  schedules.forEach((declared: unknown, i) => {
    const path = `schedules[${i}]`;
    if (typeof declared !== 'object' || declared === null || Array.isArray(declared)) return void issues.push({ path, message: `expected a schedule object, got ${describeValue(declared)}` });
    const d = declared as Record<string, unknown>;
    for (const key of Object.keys(d)) if (!KEYS.includes(key)) issues.push({ path: joinPath(path, key), message: `unknown field of a schedule; known: ${KEYS.join(', ')}` });
    if (!isScheduleName(d.name)) issues.push(issueOf(joinPath(path, 'name'), msg('invalidScheduleName', { value: describeValue(d.name) })));
    else if (names.has(d.name)) issues.push(issueOf(joinPath(path, 'name'), msg('duplicateScheduleName', { name: d.name })));
    else names.add(d.name);
    const action = d.action ?? 'main';
    if (typeof action !== 'string' || !actions.includes(action)) issues.push({ path: joinPath(path, 'action'), message: `unknown action ${describeValue(action)}; actions: ${actions.join(', ')}` });
    const { name: _name, action: _action, ...fields } = d;
    issues.push(...scheduleIssues(fields as ScheduleInput, path));
  });
  return issues;
}
