/**
 * Validation of a flow definition (DESIGN.md §2, §3): the one gate every definition passes —
 * JSON deployed over HTTP, `defineFlow({...})`, a compiled `.flow` file — before it is stored or run.
 * It reports every problem at once, each with a dotted path and a message naming the bad value.
 *
 * The `core/validation/` room: the checks of a definition, apart from the model they check —
 * this entry point, the per-step checks (step-checker.ts, check-call.ts, check-ask-step.ts,
 * check-wait-emit.ts, check-references.ts), type references and JSON Schemas (check-type-ref.ts, check-json-schema.ts)
 * and the field helpers they share (field-checker.ts). It may import the core model, errors,
 * params and expressions; nothing of the engine. The engine checks a callee against its caller
 * with calls/check-callee.ts, built on check-call.ts.
 */
import { checkJsonSchema } from './check-json-schema.js';
import { checkTypeRef } from './check-type-ref.js';
import { describeValue, joinPath } from '../describe-value.js';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { MAX_WALKED_DEPTH, nestingIssue } from '../json-depth.js';
import { isObj, list, type Obj } from './field-checker.js';
import type { FlowDefinition } from '../model.js';
import { StepChecker } from './step-checker.js';
import { ACTION_SHAPE, FLOW_SHAPE, ROLES_SHAPE, SUBFLOW_SHAPE, SUBSCRIPTION_SHAPE, fieldsOf } from './flow-shape.js';
import { checkScheduleDeclarations } from './check-schedules.js';
import { issueOf, messageOf, msg, type IssueMessage } from './messages.js';

// Defined beside the checks that use them; part of this module's API.
export { FLOW_ID_PATTERN } from './field-checker.js';
export { START_FLOW_EXECUTION_MODULE } from './flow-shape.js';

/** The result of {@link validateFlow}: the definition typed as a flow, or every problem found. */
export type FlowValidationResult = { ok: true; flow: FlowDefinition; warnings?: ValidationIssue[] } | { ok: false; issues: ValidationIssue[]; warnings?: ValidationIssue[] };

// The fields each object may have come from the one shape of a definition (flow-shape.ts), which
// the JSON Schema editors use is generated from too. `source` (where a compiled definition came
// from) and `$schema` (an editor's pointer to that JSON Schema) are accepted as they are.
const FLOW_KEYS = fieldsOf(FLOW_SHAPE);
const ACTION_KEYS = fieldsOf(ACTION_SHAPE);
const SUBFLOW_KEYS = fieldsOf(SUBFLOW_SHAPE);
const ROLE_KEYS = fieldsOf(ROLES_SHAPE);
const SUBSCRIPTION_KEYS = fieldsOf(SUBSCRIPTION_SHAPE);

/**
 * Validates a flow definition and returns it typed as a {@link FlowDefinition}, or every problem at
 * once: shape and field types, references between steps, subflows, classes, vars and outputs,
 * expressions and mapping sources that parse and read only steps, vars and outputs that exist
 * (check-references.ts; `warnings` lists what is probably wrong but may be meant, such as
 * `input.x` naming no declared param), and the rules of calls (an asynchronous call has no
 * return mapping, `merge` only into a collection; a call of this same flow binds every required
 * param and maps returned outputs onto targets of a fitting type — calls of other flows are
 * checked when they run, see `check-call.ts`). Never throws, whatever `definition` is.
 *
 * Each issue has a dotted path (`actions.main.steps.x.defaultNextStepInstanceId`; array items as
 * `catch[0]`, odd keys as `outputMappings["$.vars.x"]`) and a message naming the bad value
 * (`unknown step "y"; known steps: a, b`).
 */
export function validateFlow(definition: unknown): FlowValidationResult {
  const issues: ValidationIssue[] = [];
  const add = (path: string, message: IssueMessage): void => {
    issues.push(issueOf(path, message));
  };
  if (!isObj(definition)) {
    add('', `expected a flow definition object, got ${describeValue(definition)}`);
    return { ok: false, issues };
  }
  // First: the checks below recurse into schemas and values, and a deeper one would exhaust the stack.
  const tooDeep = nestingIssue(definition, { path: '', maxDepth: MAX_WALKED_DEPTH });
  if (tooDeep) return { ok: false, issues: [tooDeep] };
  const warnings: ValidationIssue[] = [];
  const v = new StepChecker(add, (path, message) => warnings.push(issueOf(path, message)));
  v.keys(definition, FLOW_KEYS, '', 'a flow');

  if (!Object.hasOwn(definition, 'id')) add('id', 'a flow needs an "id" such as "orders/process"');
  else v.flowId(definition.id, 'id');
  v.optString(definition, 'title', '');
  v.optString(definition, '$schema', '');
  v.optString(definition, 'description', '');

  const classes = v.namedObjects(definition, 'classes', '');
  for (const [name, schema] of Object.entries(classes ?? {})) {
    issues.push(...checkJsonSchema(schema, joinPath('classes', name)));
  }
  const scopeBase = {
    flowId: typeof definition.id === 'string' ? definition.id : undefined,
    classNames: namesOf(definition.classes),
    classes,
    vars: v.namedObjects(definition, 'vars', ''),
    subflowNames: namesOf(definition.subflows),
    actions: isObj(definition.actions) ? definition.actions : undefined,
  };
  const types = { classNames: scopeBase.classNames, classes };
  for (const [name, def] of Object.entries(scopeBase.vars ?? {})) {
    checkTypeRef(v, { def, path: joinPath('vars', name), kind: 'var', name, ...types });
  }

  const actions = v.namedObjects(definition, 'actions', '', true);
  if (actions && Object.keys(actions).length === 0) add('actions', 'a flow needs at least one action, such as "main"');
  // Subflow steps may write any action's outputs, as the subflow can be called from any of them.
  let allOutputs: Obj | undefined;
  for (const action of Object.values(actions ?? {})) {
    if (isObj(action) && isObj(action.outputs)) allOutputs = { ...action.outputs, ...allOutputs };
  }
  for (const [name, action] of Object.entries(actions ?? {})) {
    const path = joinPath('actions', name);
    // `subflow:<name>` is how a run names a subflow it starts at (an event subscription's entry point).
    if (name.startsWith('subflow:')) add(path, `an action name must not start with "subflow:", got "${name}"`);
    if (!v.object(action, path)) continue;
    v.keys(action, ACTION_KEYS, path, 'an action');
    v.optString(action, 'description', path);
    v.positive(action, 'timeoutMs', path);
    const params = v.namedObjects(action, 'params', path);
    for (const [param, def] of Object.entries(params ?? {})) {
      checkTypeRef(v, { def, path: joinPath(joinPath(path, 'params'), param), kind: 'param', name: param, ...types });
    }
    const outputs = v.namedObjects(action, 'outputs', path);
    for (const [output, def] of Object.entries(outputs ?? {})) {
      checkTypeRef(v, { def, path: joinPath(joinPath(path, 'outputs'), output), kind: 'output', name: output, ...types });
    }
    v.graph(action, path, { ...scopeBase, outputs, stepNames: undefined, params: Object.hasOwn(action, 'params') ? params : undefined });
  }

  const subflows = v.namedObjects(definition, 'subflows', '');
  for (const [name, subflow] of Object.entries(subflows ?? {})) {
    const path = joinPath('subflows', name);
    if (!v.object(subflow, path)) continue;
    v.keys(subflow, SUBFLOW_KEYS, path, 'a subflow');
    v.optString(subflow, 'description', path);
    v.graph(subflow, path, { ...scopeBase, outputs: allOutputs, stepNames: undefined });
  }

  if (v.present(definition, 'subscriptions') && v.array(definition.subscriptions, 'subscriptions')) {
    definition.subscriptions.forEach((subscription, i) => {
      const path = `subscriptions[${i}]`;
      if (!v.object(subscription, path)) return;
      v.keys(subscription, SUBSCRIPTION_KEYS, path, 'a subscription');
      v.nonEmptyString(subscription, 'on', path, msg('whatEventName'));
      if (v.present(subscription, 'runAs')) v.nonEmptyString(subscription, 'runAs', path, msg('whatServiceAccount'));
      if (!v.nonEmptyString(subscription, 'run', path, 'a subflow or action name')) return;
      const run = subscription.run as string;
      const { subflowNames, actions: actionDefs } = scopeBase;
      if (subflowNames && actionDefs && !subflowNames.includes(run) && !Object.hasOwn(actionDefs, run)) {
        add(joinPath(path, 'run'), `unknown subflow or action "${run}"; subflows: ${list(subflowNames)}; actions: ${list(Object.keys(actionDefs))}`);
      }
    });
  }

  if (v.present(definition, 'schedules')) for (const issue of checkScheduleDeclarations(definition.schedules, Object.keys(scopeBase.actions ?? {}))) add(issue.path, messageOf(issue));

  if (v.present(definition, 'roles') && v.object(definition.roles, 'roles')) {
    v.keys(definition.roles, ROLE_KEYS, 'roles', 'roles');
    for (const role of ROLE_KEYS) {
      const members = definition.roles[role];
      if (members === undefined) continue;
      const path = joinPath('roles', role);
      if (!Array.isArray(members)) add(path, `expected a list of principal names, got ${describeValue(members)}`);
      else members.forEach((m, i) => typeof m !== 'string' && add(`${path}[${i}]`, `expected a principal name (a string), got ${describeValue(m)}`));
    }
  }

  const warned = warnings.length > 0 ? { warnings } : {};
  return issues.length > 0 ? { ok: false, issues, ...warned } : { ok: true, flow: definition as unknown as FlowDefinition, ...warned };
}

/**
 * Returns the definition typed as a {@link FlowDefinition}, or throws
 * `ValidationError('INVALID_DEFINITION', issues)` listing every problem {@link validateFlow} found.
 */
export function assertValidFlow(definition: unknown): FlowDefinition {
  const result = validateFlow(definition);
  if (!result.ok) throw new ValidationError('INVALID_DEFINITION', result.issues);
  return result.flow;
}

/** The names of an optional map: none when absent, undefined when it is not an object. */
function namesOf(value: unknown): string[] | undefined {
  if (value === undefined) return [];
  return isObj(value) ? Object.keys(value) : undefined;
}
