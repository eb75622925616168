/**
 * Checks of a step graph (DESIGN.md §2): an action's body or a subflow, its entry point, and each
 * step — the fields its type allows, references to steps, subflows, vars and outputs, expressions
 * and mapping sources that parse, retry and catch policies, and the rules of calls.
 */
import { checkAskStep } from './check-ask-step.js';
import { checkEmitStep, checkWaitStep } from './check-wait-emit.js';
import { checkCall } from './check-call.js';
import { checkStepReferences } from './check-references.js';
import { describeValue, joinPath } from '../describe-value.js';
import { expressionProblem } from '../expression/index.js';
import { FieldChecker, RESERVED_NAMES, guarded, isObj, list, naming, type Obj } from './field-checker.js';
import { mappingSourceProblem, readContextTarget } from '../mapping.js';
import { messageOf, msg, namesValue, type IssueMessage } from './messages.js';
import { LATEST_PUBLISHED, STEP_TYPES } from '../model.js';
import { CATCH_SHAPE, RETRY_SHAPE, RETURN_MAPPING_SHAPE, SOURCE_SHAPE, START_FLOW_EXECUTION_MODULE, STEP_BASE_SHAPE, STEP_TYPE_SHAPES, TRANSITION_SHAPE, fieldsOf } from './flow-shape.js';

export { START_FLOW_EXECUTION_MODULE };

// Field lists from the one shape of a definition (flow-shape.ts).
const STEP_BASE_KEYS = fieldsOf(STEP_BASE_SHAPE);
const STEP_TYPE_KEYS: Record<string, string[]> = Object.fromEntries(Object.entries(STEP_TYPE_SHAPES).map(([type, shape]) => [type, fieldsOf(shape)]));
const RETRY_KEYS = fieldsOf(RETRY_SHAPE);
const CATCH_KEYS = fieldsOf(CATCH_SHAPE);
const SOURCE_KEYS = fieldsOf(SOURCE_SHAPE);
const TRANSITION_KEYS = fieldsOf(TRANSITION_SHAPE);
const RETURN_MAPPING_KEYS = fieldsOf(RETURN_MAPPING_SHAPE);

/** What a step graph can refer to. */
export interface StepScope {
  flowId: string | undefined;
  /** Each list or map below is undefined when its declaration is malformed (already reported), so references into it are not checked again. */
  classNames: string[] | undefined;
  /** The flow's classes (their schemas), when `classes` is well-formed. */
  classes?: Obj | undefined;
  vars: Obj | undefined;
  actions: Obj | undefined;
  subflowNames: string[] | undefined;
  /** Outputs a target may name: the action's, or (in a subflow) every action's; undefined = undeclared, anything goes. */
  outputs: Obj | undefined;
  stepNames: string[] | undefined;
  /** The action's declared params; undefined in a subflow or when undeclared (what `input.x` may name, see check-references.ts). */
  params?: Obj | undefined;
}

/**
 * Checks step graphs, reporting every problem through the shared issue list of {@link FieldChecker}.
 * Never throws: a check written elsewhere (expression, mapping source, target parsing) that throws
 * becomes an issue.
 */
export class StepChecker extends FieldChecker {
  /**
   * @param add Records one issue (the definition is invalid).
   * @param warn Records one warning: something probably wrong that the definition may still mean.
   */
  constructor(
    add: (path: string, message: IssueMessage) => void,
    readonly warn: (path: string, message: IssueMessage) => void = () => undefined,
  ) {
    super(add);
  }

  /**
   * Checks a step list with its entry point: an action's body or a subflow. Sets
   * `scope.stepNames` to the graph's steps (undefined when `steps` is malformed).
   */
  graph(graph: Obj, path: string, scope: StepScope): void {
    const steps = this.namedObjects(graph, 'steps', path, true);
    scope.stepNames = steps ? Object.keys(steps) : undefined;
    if (!this.present(graph, 'startAt')) this.add(joinPath(path, 'startAt'), `"startAt" is required: the first step (known steps: ${list(scope.stepNames ?? [])})`);
    else this.stepRef(graph.startAt, joinPath(path, 'startAt'), scope);
    for (const [key, step] of Object.entries(steps ?? {})) this.step(step, key, joinPath(joinPath(path, 'steps'), key), scope);
  }

  /** Step or subflow names as a set, so checking every reference of a large flow stays linear. */
  private readonly nameSets = new WeakMap<string[], Set<string>>();

  private stepRef(value: unknown, path: string, scope: StepScope): void {
    if (typeof value === 'string' && (!scope.stepNames || this.nameSet(scope.stepNames).has(value))) return;
    if (typeof value === 'string') this.add(path, msg('unknownStep', { name: value, known: namesValue(scope.stepNames ?? []) }));
    else this.add(path, `expected a step name, got ${describeValue(value)}; known steps: ${list(scope.stepNames ?? [])}`);
  }

  private nameSet(names: string[]): Set<string> {
    let set = this.nameSets.get(names);
    if (!set) this.nameSets.set(names, (set = new Set(names)));
    return set;
  }

  private subflowRef(step: Obj, path: string, scope: StepScope): void {
    const value = step.subflow;
    if (typeof value === 'string' && (!scope.subflowNames || this.nameSet(scope.subflowNames).has(value))) return;
    const known = scope.subflowNames && scope.subflowNames.length > 0 ? `known subflows: ${list(scope.subflowNames)}` : 'the flow declares no subflows';
    const bad = typeof value === 'string' ? `unknown subflow "${value}"` : `expected a subflow name, got ${describeValue(value)}`;
    this.add(joinPath(path, 'subflow'), `${bad}; ${known}`);
  }

  private step(step: unknown, key: string, path: string, scope: StepScope): void {
    if (!this.object(step, path)) return;
    const type = step.stepType;
    const known = typeof type === 'string' && Object.hasOwn(STEP_TYPE_KEYS, type);
    if (!known) {
      const bad = this.present(step, 'stepType') ? `unknown stepType ${describeValue(type)}` : '"stepType" is required';
      this.add(joinPath(path, 'stepType'), `${bad}; known step types: ${STEP_TYPES.join(', ')}`);
    } else {
      const launches = type === 'START_FLOW_EXECUTION' && Object.hasOwn(step, 'returnMappings');
      if (launches) this.add(joinPath(path, 'returnMappings'), 'an asynchronous call has no return mapping: START_FLOW_EXECUTION starts an independent run');
      this.keys(step, [...STEP_BASE_KEYS, ...(STEP_TYPE_KEYS[type] ?? []), ...(launches ? ['returnMappings'] : [])], path, `a ${type} step`);
    }

    if (this.present(step, 'stepInstanceId') && step.stepInstanceId !== key) {
      const id = step.stepInstanceId;
      const duplicate = typeof id === 'string' && scope.stepNames?.includes(id) ? `; it duplicates step "${id}"` : '';
      this.add(joinPath(path, 'stepInstanceId'), `stepInstanceId ${describeValue(id)} must equal its key "${key}"${duplicate}`);
    }
    this.optString(step, 'displayName', path);
    if (this.present(step, 'literals')) this.object(step.literals, joinPath(path, 'literals'));
    this.inputMappings(step, path);
    this.outputMappings(step, path, scope);
    if (this.present(step, 'defaultNextStepInstanceId')) {
      this.stepRef(step.defaultNextStepInstanceId, joinPath(path, 'defaultNextStepInstanceId'), scope);
    }
    this.retry(step, path);
    this.catchClauses(step, path, scope);
    this.positive(step, 'timeoutMs', path);
    this.source(step, path);
    if (known) this.stepOfType(step, type, path, scope);
    const { stepNames, vars, outputs, params } = scope;
    checkStepReferences(step, path, { stepNames, vars, outputs, params }, { error: this.add, warn: this.warn });
  }

  private stepOfType(step: Obj, type: string, path: string, scope: StepScope): void {
    switch (type) {
      case 'COMPUTE':
        this.expression(step, 'expression', path, true);
        return;
      case 'SUCCEED':
        this.expression(step, 'expression', path, false);
        return;
      case 'SET':
        if (this.nonEmptyString(step, 'target', path, msg('whatTarget'))) {
          this.target(step.target as string, joinPath(path, 'target'), scope);
        }
        this.expression(step, 'expression', path, true);
        return;
      case 'DECIDE':
        this.transitions(step, path, scope);
        return;
      case 'GOTO':
        this.subflowRef(step, path, scope);
        return;
      case 'RUN_FLOW':
        this.runFlow(step, path, scope);
        return;
      case 'ASK':
        checkAskStep(this, step, path, scope.classNames);
        return;
      case 'MODULE':
        this.nonEmptyString(step, 'moduleIdentifier', path, 'the identifier of a registered module');
        return;
      case 'START_FLOW_EXECUTION':
        if (this.present(step, 'moduleIdentifier') && step.moduleIdentifier !== START_FLOW_EXECUTION_MODULE) {
          this.add(joinPath(path, 'moduleIdentifier'), `moduleIdentifier of a START_FLOW_EXECUTION step must be "${START_FLOW_EXECUTION_MODULE}", got ${describeValue(step.moduleIdentifier)}`);
        }
        this.optString(step, 'runAs', path);
        this.launchTarget(step, path);
        return;
      case 'FAIL':
        this.optString(step, 'code', path);
        this.optString(step, 'description', path);
        return;
      case 'WAIT':
        checkWaitStep(this, step, path);
        return;
      case 'EMIT':
        checkEmitStep(this, step, path);
        return;
    }
  }

  private expression(obj: Obj, key: string, path: string, required: boolean): void {
    if (!this.present(obj, key)) {
      if (required) this.add(joinPath(path, key), `"${key}" is required`);
      return;
    }
    const source = obj[key];
    if (typeof source !== 'string') {
      this.add(joinPath(path, key), `expected an expression (a string), got ${describeValue(source)}`);
      return;
    }
    const error = guarded(() => expressionProblem(source));
    if (error !== undefined) this.add(joinPath(path, key), naming(source, error, (problem) => msg('invalidExpression', { source: describeValue(source), problem })));
  }

  private mappingSource(source: unknown, path: string): void {
    if (typeof source !== 'string') {
      this.add(path, `expected a mapping source (a "$…" path or an expression), got ${describeValue(source)}`);
      return;
    }
    const error = guarded(() => mappingSourceProblem(source));
    if (error !== undefined) this.add(path, naming(source, error, (problem) => msg('invalidMappingSource', { source: describeValue(source), problem })));
  }

  private inputMappings(step: Obj, path: string): void {
    if (!this.present(step, 'inputMappings')) return;
    const at = joinPath(path, 'inputMappings');
    if (!this.object(step.inputMappings, at)) return;
    for (const [target, source] of Object.entries(step.inputMappings)) {
      const segments = target.split('.');
      if (segments.some((s) => s === '')) this.add(joinPath(at, target), `invalid input target "${target}": expected a dotted path such as "order.id"`);
      const reserved = segments.find((s) => RESERVED_NAMES.includes(s));
      if (reserved !== undefined) this.add(joinPath(at, target), `invalid input target "${target}": "${reserved}" is reserved`);
      this.mappingSource(source, joinPath(at, target));
    }
  }

  private outputMappings(step: Obj, path: string, scope: StepScope): void {
    if (!this.present(step, 'outputMappings')) return;
    const at = joinPath(path, 'outputMappings');
    if (!this.object(step.outputMappings, at)) return;
    for (const [target, source] of Object.entries(step.outputMappings)) {
      this.target(target, joinPath(at, target), scope);
      this.mappingSource(source, joinPath(at, target));
    }
  }

  /** A write target in the context; names a declared var/output when those are declared. Returns its declaration. */
  private target(target: string, path: string, scope: StepScope): { root: 'vars' | 'outputs'; path: string[]; declared?: Obj } | undefined {
    const parsed = guarded(() => readContextTarget(target));
    if (typeof parsed === 'string' || 'key' in parsed) {
      this.add(path, naming(target, parsed, (problem) => msg('invalidTarget', { target: describeValue(target), problem })));
      return undefined;
    }
    const name = parsed.path[0];
    if (name === undefined) return parsed;
    const declared = parsed.root === 'vars' ? scope.vars : scope.outputs;
    if (declared === undefined) return parsed;
    if (!Object.hasOwn(declared, name)) {
      const kind = parsed.root === 'vars' ? 'var' : 'output';
      this.add(path, `unknown ${kind} "${name}" in target "${target}"; declared ${kind}s: ${list(Object.keys(declared))}`);
      return undefined;
    }
    const def = declared[name];
    return { ...parsed, ...(isObj(def) ? { declared: def } : {}) };
  }

  private retry(step: Obj, path: string): void {
    if (!this.present(step, 'retry')) return;
    const at = joinPath(path, 'retry');
    if (!this.object(step.retry, at)) return;
    const retry = step.retry;
    this.keys(retry, RETRY_KEYS, at, 'a retry policy');
    if (!this.present(retry, 'maxAttempts')) this.add(joinPath(at, 'maxAttempts'), '"maxAttempts" is required: an integer ≥ 1');
    this.number(retry, 'maxAttempts', at, { min: 1, integer: true });
    this.number(retry, 'backoffMs', at, { min: 0 });
    this.number(retry, 'backoffRate', at, { min: 1 });
    this.number(retry, 'maxBackoffMs', at, { min: 0 });
    if (this.present(retry, 'errorEquals')) this.strings(retry.errorEquals, joinPath(at, 'errorEquals'), 'error codes', true);
  }

  private catchClauses(step: Obj, path: string, scope: StepScope): void {
    if (!this.present(step, 'catch')) return;
    const at = joinPath(path, 'catch');
    if (!this.array(step.catch, at)) return;
    step.catch.forEach((clause, i) => {
      const clausePath = `${at}[${i}]`;
      if (!this.object(clause, clausePath)) return;
      this.keys(clause, CATCH_KEYS, clausePath, 'a catch clause');
      this.strings(clause.errorEquals, joinPath(clausePath, 'errorEquals'), 'error codes', true);
      this.stepRef(clause.next, joinPath(clausePath, 'next'), scope);
    });
  }

  private source(step: Obj, path: string): void {
    if (!this.present(step, 'source')) return;
    const at = joinPath(path, 'source');
    if (!this.object(step.source, at)) return;
    this.keys(step.source, SOURCE_KEYS, at, 'a source location');
    this.optString(step.source, 'file', at);
    if (!this.present(step.source, 'line')) this.add(joinPath(at, 'line'), '"line" is required');
    this.number(step.source, 'line', at, { min: 0, integer: true });
    this.number(step.source, 'column', at, { min: 0, integer: true });
  }

  private transitions(step: Obj, path: string, scope: StepScope): void {
    const at = joinPath(path, 'transitions');
    if (!this.present(step, 'transitions')) {
      this.add(at, '"transitions" is required: a list of {condition, nextStepInstanceId}');
      return;
    }
    if (!this.array(step.transitions, at)) return;
    if (step.transitions.length === 0) this.add(at, msg('decideNeedsTransition'));
    step.transitions.forEach((transition, i) => {
      const itemPath = `${at}[${i}]`;
      if (!this.object(transition, itemPath)) return;
      this.keys(transition, TRANSITION_KEYS, itemPath, 'a transition');
      this.expression(transition, 'condition', itemPath, true);
      this.stepRef(transition.nextStepInstanceId, joinPath(itemPath, 'nextStepInstanceId'), scope);
    });
  }

  private runFlow(step: Obj, path: string, scope: StepScope): void {
    const hasSubflow = this.present(step, 'subflow');
    const hasFlow = this.present(step, 'flowDefinitionId');
    if (hasSubflow && hasFlow) {
      this.add(path, `a RUN_FLOW step calls either a subflow or another flow; it names both subflow ${describeValue(step.subflow)} and flowDefinitionId ${describeValue(step.flowDefinitionId)}`);
    } else if (!hasSubflow && !hasFlow) {
      this.add(path, 'a RUN_FLOW step needs exactly one of "subflow" (a subflow of this flow) and "flowDefinitionId" (another flow)');
    }
    if (hasSubflow) this.subflowRef(step, path, scope);
    if (hasSubflow && !hasFlow) {
      for (const key of ['action', 'flowVersion']) {
        if (this.present(step, key)) this.add(joinPath(path, key), `"${key}" applies to a call of another flow (flowDefinitionId), not to subflow ${describeValue(step.subflow)}`);
      }
    }
    if (hasFlow) this.flowId(step.flowDefinitionId, joinPath(path, 'flowDefinitionId'));
    if (this.present(step, 'flowVersion')) {
      const version = step.flowVersion;
      const valid =
        (typeof version === 'number' && Number.isInteger(version) && version >= 1) ||
        (typeof version === 'string' && (version === LATEST_PUBLISHED || /^[1-9]\d*$/.test(version)));
      if (!valid) this.add(joinPath(path, 'flowVersion'), `flowVersion must be a version number ≥ 1 or "${LATEST_PUBLISHED}", got ${describeValue(version)}`);
    }
    this.optString(step, 'action', path);
    this.optBoolean(step, 'async', path);
    this.optString(step, 'runAs', path);
    if (this.present(step, 'returnMappings')) this.returnMappings(step, path, scope);
    // A call of this same flow is the one case where the callee is known here (check-call.ts says when other flows are checked).
    const callee = hasFlow && step.flowDefinitionId === scope.flowId ? this.selfCallee(step, path, scope) : undefined;
    if (callee) {
      const caller = { vars: scope.vars, outputs: scope.outputs, classes: scope.classes };
      for (const issue of checkCall({ step, path, callee: { ...callee, classes: scope.classes }, caller, checkParams: true })) this.add(issue.path, messageOf(issue));
    }
  }

  /** The flow a START_FLOW_EXECUTION starts: a flow id in `literals` or mapped in `inputMappings` (seed 004). */
  private launchTarget(step: Obj, path: string): void {
    const literals = isObj(step.literals) ? step.literals : {};
    const mapped = isObj(step.inputMappings) && Object.hasOwn(step.inputMappings, 'flowDefinitionId');
    const at = joinPath(joinPath(path, 'literals'), 'flowDefinitionId');
    if (Object.hasOwn(literals, 'flowDefinitionId')) {
      if (!mapped) this.flowId(literals.flowDefinitionId, at);
    } else if (!mapped) {
      this.add(at, 'a START_FLOW_EXECUTION step needs "flowDefinitionId", the flow it starts: in literals ("flowDefinitionId": "process-order-flow") or inputMappings ("flowDefinitionId": "$.flow_variables.process_order_flow_id")');
    }
  }

  private returnMappings(step: Obj, path: string, scope: StepScope): void {
    const at = joinPath(path, 'returnMappings');
    if (!this.array(step.returnMappings, at)) return;
    if (step.async === true) {
      this.add(at, `an asynchronous call has no return mapping (found ${step.returnMappings.length}); remove "returnMappings" or set "async": false`);
    }
    step.returnMappings.forEach((mapping, i) => {
      const itemPath = `${at}[${i}]`;
      if (!this.object(mapping, itemPath)) return;
      this.keys(mapping, RETURN_MAPPING_KEYS, itemPath, 'a return mapping');
      this.nonEmptyString(mapping, 'output', itemPath, 'the name of a returned output');
      const mode = mapping.mode;
      if (this.present(mapping, 'mode') && mode !== 'replace' && mode !== 'merge') {
        this.add(joinPath(itemPath, 'mode'), `unknown mode ${describeValue(mode)}; known modes: replace, merge`);
      }
      if (!this.nonEmptyString(mapping, 'target', itemPath, 'a context target such as "$.vars.lines"')) return;
      const target = this.target(mapping.target as string, joinPath(itemPath, 'target'), scope);
      const targetDef = target && target.path.length === 1 ? target.declared : undefined;
      const targetName = target ? `${target.root === 'vars' ? 'var' : 'output'} "${target.path[0]}"` : '';
      if (mode === 'merge' && targetDef && targetDef.collection === undefined) {
        this.add(joinPath(itemPath, 'mode'), `mode "merge" needs a collection target, but ${targetName} is ${describeType(targetDef)}`);
      }
    });
  }

  private selfCallee(step: Obj, path: string, scope: StepScope): { flowId: string; actionName: string; action: Obj } | undefined {
    const action = typeof step.action === 'string' ? step.action : 'main';
    if (!scope.actions) return undefined;
    const def = Object.hasOwn(scope.actions, action) ? scope.actions[action] : undefined;
    if (!isObj(def)) {
      this.add(joinPath(path, 'action'), `unknown action "${action}" of flow "${scope.flowId ?? ''}"; known actions: ${list(Object.keys(scope.actions))}`);
      return undefined;
    }
    return { flowId: scope.flowId ?? '', actionName: action, action: def };
  }
}

function describeType(def: Obj): string {
  if (def.collection !== undefined) return `a collection of ${describeValue(def.collection)}`;
  if (def.type !== undefined) return `of type ${describeValue(def.type)}`;
  if (def.schema !== undefined) return 'a schema type';
  return 'untyped';
}

