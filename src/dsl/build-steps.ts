/**
 * Turns the statements of one flow body into a step graph of the model: ids for every step, the
 * `defaultNextStepInstanceId` chain, decide branches joining at the statement after the decide,
 * and each step's `source` location.
 */
import type { AskStep, JsonValue, StepDefinition, StepGraph } from '../core/model.js';
import type { Arg, Statement } from './ast.js';
import type { Position } from './lexer.js';

/** The module of a START_FLOW_EXECUTION step (seed 004). */
const START_FLOW_EXECUTION_MODULE = 'system/start-flow-execution';

/** A step id that is already taken, and where. */
export type DuplicateStep = (name: string, at: Position, first: Position) => void;

/** Builds one step graph; `positions` maps each step id to where its statement is. */
export class StepGraphBuilder {
  readonly steps: Record<string, StepDefinition> = {};
  readonly positions = new Map<string, Position>();
  private readonly ids = new Map<Statement, string>();
  private readonly suffixes = new Map<string, number>();

  constructor(
    private readonly file: string | undefined,
    private readonly onDuplicate: DuplicateStep,
  ) {}

  /** Builds the graph of `body`; an empty body becomes one SUCCEED step named `end`, at the line `at` of its section. */
  build(body: Statement[], at: Position): StepGraph {
    this.assignIds(body, true);
    this.assignIds(body, false);
    const startAt = this.chain(body, undefined);
    if (startAt === undefined) return { startAt: 'end', steps: { end: { stepType: 'SUCCEED', source: this.source(at) } } };
    // Steps were built last to first (each needs its successor); list them in source order.
    const order = [...this.positions.entries()].sort(([, a], [, b]) => a.line - b.line || a.column - b.column);
    const steps: Record<string, StepDefinition> = {};
    for (const [id] of order) if (Object.hasOwn(this.steps, id)) steps[id] = this.steps[id]!;
    return { startAt, steps };
  }

  /** Named statements first (their names are the user's), then generated ids that avoid them. */
  private assignIds(body: Statement[], named: boolean): void {
    for (const s of body) {
      const own = 'name' in s ? s.name : undefined;
      if (named && own !== undefined) {
        const first = this.positions.get(own);
        if (first) this.onDuplicate(own, s.at, first);
        else this.take(s, own);
      } else if (!named && own === undefined) {
        this.take(s, this.freshId(generatedName(s)));
      }
      if (s.kind === 'decide') {
        for (const branch of s.branches) this.assignIds(branch.body, named);
        if (s.otherwise) this.assignIds(s.otherwise, named);
      }
    }
  }

  private take(s: Statement, id: string): void {
    this.ids.set(s, id);
    this.positions.set(id, s.at);
  }

  /** The next free `base`, `base_2`, `base_3`…; remembers where it stopped so many repeats stay linear. */
  private freshId(base: string): string {
    if (!this.positions.has(base)) return base;
    let n = this.suffixes.get(base) ?? 2;
    while (this.positions.has(`${base}_${n}`)) n++;
    this.suffixes.set(base, n + 1);
    return `${base}_${n}`;
  }

  /** Compiles statements in reverse so each knows its successor; returns the first step id. */
  private chain(body: Statement[], next: string | undefined): string | undefined {
    let after = next;
    for (let i = body.length - 1; i >= 0; i--) after = this.step(body[i]!, after) ?? after;
    return after;
  }

  private step(s: Statement, next: string | undefined): string | undefined {
    const id = this.ids.get(s);
    if (id === undefined) return undefined; // a duplicate name, already reported
    const base = { source: this.source(s.at) };
    const then = next === undefined ? {} : { defaultNextStepInstanceId: next };
    let step: StepDefinition;
    switch (s.kind) {
      case 'compute':
        step = { stepType: 'COMPUTE', expression: s.expression, ...then, ...base };
        break;
      case 'set':
        step = { stepType: 'SET', target: s.target, expression: s.expression, ...then, ...base };
        break;
      case 'fail':
        step = { stepType: 'FAIL', code: s.code, ...(s.description !== undefined ? { description: s.description } : {}), ...base };
        break;
      case 'run':
        step = { stepType: 'RUN_FLOW', subflow: s.flow, ...then, ...base };
        break;
      case 'goto':
        step = { stepType: 'GOTO', subflow: s.flow, ...base };
        break;
      case 'decide': {
        const transitions = [];
        for (const branch of s.branches) {
          const target = this.chain(branch.body, next);
          if (target !== undefined) transitions.push({ condition: branch.condition, nextStepInstanceId: target });
        }
        const otherwise = s.otherwise ? this.chain(s.otherwise, next) : next;
        step = { stepType: 'DECIDE', transitions, ...(otherwise === undefined ? {} : { defaultNextStepInstanceId: otherwise }), ...base };
        break;
      }
      case 'launch':
        step = {
          stepType: 'START_FLOW_EXECUTION',
          moduleIdentifier: START_FLOW_EXECUTION_MODULE,
          literals: { flowDefinitionId: s.machine },
          ...mappings(s.args, 'initialContextData.'),
          ...then,
          ...base,
        };
        break;
      case 'call':
        step = { stepType: 'RUN_FLOW', flowDefinitionId: s.machine, ...mappings(s.args, ''), ...then, ...base };
        break;
      case 'ask':
        step = s.machine !== undefined ? this.askMachine(s, then, base) : this.askModel(s, then, base);
        break;
      case 'wait': {
        const match = s.args.length > 0 ? { match: Object.fromEntries(s.args.map((a) => [a.key, a.source])) } : {};
        const what = s.event !== undefined ? { event: s.event, ...match } : s.until !== undefined ? { until: s.until } : { durationMs: s.durationMs ?? 0 };
        step = { stepType: 'WAIT', ...what, ...then, ...base };
        break;
      }
      case 'emit':
        step = { stepType: 'EMIT', event: s.event, ...(s.args.length > 0 ? { payload: `{${s.args.map((a) => `${a.key}: (${a.source})`).join(', ')}}` } : {}), ...then, ...base };
        break;
    }
    this.steps[id] = step;
    return id;
  }

  private source(at: Position): { file?: string; line: number } {
    return { ...(this.file !== undefined ? { file: this.file } : {}), line: at.line };
  }

  /** `ask … from`: a call of another machine that waits for its output (`returns`/`assuming` document it). */
  private askMachine(s: Extract<Statement, { kind: 'ask' }>, then: object, base: object): StepDefinition {
    const args = s.task === undefined ? s.args : [...s.args, { key: 'task', source: s.task, at: s.at }];
    return { stepType: 'RUN_FLOW', flowDefinitionId: s.machine!, ...mappings(args, ''), ...then, ...base };
  }

  private askModel(s: Extract<Statement, { kind: 'ask' }>, then: object, base: object): AskStep {
    const returns = Object.fromEntries(s.returns.map((f) => [f.name, { type: f.type }]));
    const assuming: Record<string, JsonValue> = s.assuming;
    return {
      stepType: 'ASK',
      model: s.model!,
      ...(s.task !== undefined ? { task: s.task } : {}),
      returns,
      ...(Object.keys(assuming).length > 0 ? { assuming } : {}),
      ...mappings(s.args, ''),
      ...then,
      ...base,
    };
  }
}

function mappings(args: Arg[], prefix: string): { inputMappings?: Record<string, string> } {
  if (args.length === 0) return {};
  return { inputMappings: Object.fromEntries(args.map((a) => [`${prefix}${a.key}`, a.source])) };
}

/** The id of a statement without a name of its own: `run_<flow>`, `goto_<flow>`, `set_<var>`, `fail_<code>`. */
function generatedName(s: Statement): string {
  switch (s.kind) {
    case 'run':
    case 'goto':
      return `${s.kind}_${s.flow}`;
    case 'set': {
      const last = s.target.split(/[.[\]"'$]+/).filter(Boolean).pop() ?? 'value';
      return `set_${last}`;
    }
    case 'fail':
      return `fail_${s.code.toLowerCase()}`;
    default:
      return 'step';
  }
}
