/**
 * Deploy-time checks of calls to other flows (issue 14, DESIGN.md §3): a RUN_FLOW or a
 * START_FLOW_EXECUTION that names another flow which exists when the caller is deployed is
 * checked then, against the version the call would run now (its `flowVersion`; without one the
 * published version, else the latest) — the action exists, every required param is bound (for a
 * launch: by `initialContextData`), literal param values fit their types, and return mappings fit
 * (check-call.ts). A mismatch is a definition error: `flowrun check` and `POST /flows` refuse it.
 *
 * A target that does not exist yet stays a run-time check (flows may be deployed in any order)
 * and is reported as a warning, as is a launch whose flow id is only known at run time. The call
 * is checked again when it runs, against the version that actually runs (calls/check-callee.ts):
 * `LATEST_PUBLISHED` moves with every publish.
 */
import { joinPath } from '../describe-value.js';
import type { ValidationIssue } from '../errors.js';
import type { FlowDefinition, TypeRef } from '../model.js';
import { validateValue } from '../params.js';
import { checkCall } from './check-call.js';
import { suggestion } from './did-you-mean.js';
import { issueOf, msg, namesValue } from './messages.js';
import { isObj, type Obj } from './field-checker.js';

/** A flow a definition calls, and the version selector its call names (undefined: published, else latest). */
export interface FlowCallTarget {
  flowId: string;
  version: number | 'LATEST_PUBLISHED' | undefined;
}

/** A call of another flow found in a definition: where, which step, which target. */
interface FoundCall {
  path: string;
  step: Obj;
  target: FlowCallTarget;
  actionName: string;
  /** The calling graph's outputs (an action's; a subflow's: every action's). */
  outputs: Obj | undefined;
  launch: boolean;
}

/** The other flows `definition` calls by a flow id written in it; deduplicated, in order. */
export function flowCallTargets(definition: FlowDefinition): FlowCallTarget[] {
  const seen = new Map<string, FlowCallTarget>();
  for (const call of findCalls(definition, () => undefined)) seen.set(`${call.target.flowId}@${String(call.target.version)}`, call.target);
  return [...seen.values()];
}

/**
 * Checks every call of another flow in `definition` against the callee `callees` returns (the
 * definition of the version the call would run now; undefined when there is none yet). Returns the
 * errors and the warnings (targets that do not exist yet, launches of a flow named at run time).
 */
export function checkFlowCalls(
  definition: FlowDefinition,
  callees: (target: FlowCallTarget) => FlowDefinition | undefined,
): { issues: ValidationIssue[]; warnings: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  for (const call of findCalls(definition, (path) => warnings.push({ path, message: 'the flow this step launches is named at run time (inputMappings.flowDefinitionId): its input is checked when it runs' }))) {
    // A flow that launches itself launches the version being checked.
    const callee = call.target.flowId === definition.id ? definition : callees(call.target);
    const idPath = call.launch ? joinPath(joinPath(call.path, 'literals'), 'flowDefinitionId') : joinPath(call.path, 'flowDefinitionId');
    if (!callee) {
      const flow = call.target.flowId;
      const which = call.target.version === 'LATEST_PUBLISHED' ? 'has no published version yet' : `has no version ${call.target.version} yet`;
      warnings.push(call.target.version === undefined ? issueOf(idPath, msg('flowNotDeployed', { flow })) : { path: idPath, message: `flow "${flow}" ${which}: this call is checked when it runs` });
      continue;
    }
    const action = Object.hasOwn(callee.actions, call.actionName) ? (callee.actions[call.actionName] as unknown as Obj) : undefined;
    if (!action) {
      const actions = Object.keys(callee.actions);
      const at = call.launch ? joinPath(joinPath(call.path, 'literals'), 'actionName') : joinPath(call.path, 'action');
      issues.push(issueOf(at, msg('flowHasNoAction', { flow: call.target.flowId, action: call.actionName, suggestion: suggestion(call.actionName, actions), known: namesValue(actions) })));
      continue;
    }
    const classes = callee.classes as Obj | undefined;
    const step = call.launch ? launchAsCall(call.step) : call.step;
    if (!step) continue;
    const caller = { vars: definition.vars as Obj | undefined, outputs: call.outputs, classes: definition.classes as Obj | undefined };
    const called = { flowId: call.target.flowId, actionName: call.actionName, action, classes };
    issues.push(...checkCall({ step, path: call.path, callee: called, caller, checkParams: true, ...(call.launch ? { paramsPrefix: 'initialContextData.' } : {}) }));
    issues.push(...literalParams(step, call, action, classes));
  }
  return { issues, warnings };
}

/** A launch's `initialContextData` seen as the params of a call: its literal object and its `initialContextData.x` mappings. */
function launchAsCall(step: Obj): Obj | undefined {
  const literals = isObj(step.literals) ? step.literals : {};
  const mappings = isObj(step.inputMappings) ? step.inputMappings : {};
  // The whole object comes from the context: what it holds is known at run time only.
  if (Object.hasOwn(mappings, 'initialContextData')) return undefined;
  const inputMappings: Obj = {};
  for (const [key, source] of Object.entries(mappings)) if (key.startsWith('initialContextData.')) inputMappings[key.slice('initialContextData.'.length)] = source;
  return { literals: isObj(literals.initialContextData) ? literals.initialContextData : {}, inputMappings };
}

/** Literal values of declared params, checked against their types. */
function literalParams(step: Obj, call: FoundCall, action: Obj, classes: Obj | undefined): ValidationIssue[] {
  const params = isObj(action.params) ? action.params : {};
  const literals = isObj(step.literals) ? step.literals : {};
  const at = call.launch ? joinPath(joinPath(call.path, 'literals'), 'initialContextData') : joinPath(call.path, 'literals');
  const issues: ValidationIssue[] = [];
  for (const [name, value] of Object.entries(literals)) {
    const def = Object.hasOwn(params, name) ? params[name] : undefined;
    if (!isObj(def)) continue;
    for (const issue of validateValue(value, def as TypeRef, classes as Parameters<typeof validateValue>[2], joinPath(at, name))) {
      issues.push({ path: issue.path, message: `param "${name}" of action "${call.actionName}" of flow "${call.target.flowId}": ${issue.message}` });
    }
  }
  return issues;
}

/** Every RUN_FLOW and START_FLOW_EXECUTION naming another flow by a literal id; `dynamic` hears of launches named at run time. */
function findCalls(definition: FlowDefinition, dynamic: (path: string) => void): FoundCall[] {
  const calls: FoundCall[] = [];
  let allOutputs: Obj | undefined;
  for (const action of Object.values(definition.actions)) if (isObj(action.outputs)) allOutputs = { ...(action.outputs as Obj), ...allOutputs };
  const graphs: [string, Obj, Obj | undefined][] = [
    ...Object.entries(definition.actions).map(([name, a]): [string, Obj, Obj | undefined] => [joinPath('actions', name), a as unknown as Obj, a.outputs as Obj | undefined]),
    ...Object.entries(definition.subflows ?? {}).map(([name, s]): [string, Obj, Obj | undefined] => [joinPath('subflows', name), s as unknown as Obj, allOutputs]),
  ];
  for (const [graphPath, graph, outputs] of graphs) {
    for (const [key, step] of Object.entries(isObj(graph.steps) ? graph.steps : {})) {
      if (!isObj(step)) continue;
      const path = joinPath(joinPath(graphPath, 'steps'), key);
      if (step.stepType === 'RUN_FLOW' && typeof step.flowDefinitionId === 'string' && step.flowDefinitionId !== definition.id) {
        const actionName = typeof step.action === 'string' ? step.action : 'main';
        calls.push({ path, step, target: { flowId: step.flowDefinitionId, version: selector(step.flowVersion) }, actionName, outputs, launch: false });
      } else if (step.stepType === 'START_FLOW_EXECUTION') {
        const literals = isObj(step.literals) ? step.literals : {};
        if (typeof literals.flowDefinitionId !== 'string') {
          if (isObj(step.inputMappings) && Object.hasOwn(step.inputMappings, 'flowDefinitionId')) dynamic(joinPath(joinPath(path, 'inputMappings'), 'flowDefinitionId'));
          continue;
        }
        const mapped = isObj(step.inputMappings) && (Object.hasOwn(step.inputMappings, 'flowVersion') || Object.hasOwn(step.inputMappings, 'actionName'));
        if (mapped) continue; // Which version or action runs is known at run time only.
        const actionName = typeof literals.actionName === 'string' ? literals.actionName : 'main';
        calls.push({ path, step, target: { flowId: literals.flowDefinitionId, version: selector(literals.flowVersion) }, actionName, outputs, launch: true });
      }
    }
  }
  return calls;
}

function selector(version: unknown): FlowCallTarget['version'] {
  if (version === 'LATEST_PUBLISHED') return version;
  const n = typeof version === 'number' ? version : typeof version === 'string' && /^[1-9]\d*$/.test(version) ? Number(version) : NaN;
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}
