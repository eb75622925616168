/**
 * The parser of the flow language: turns the line tree of the lexer into a {@link MachineNode}.
 * It reports every problem it can find (a bad line is skipped, its siblings are still read) and
 * records where each keyword was, so a program can be translated into another language.
 */
import type { JsonValue, VarType } from '../core/model.js';
import type { Arg, Branch, Field, MachineNode, Statement } from './ast.js';
import { DiagnosticSink, generic, keywords } from './diagnostics.js';
import type { KeywordKey } from './keywords/keyword-table.js';
import type { KeywordIndex } from './keywords/languages.js';
import type { Position, SourceLine } from './lexer.js';
import { LineReader, readQuotedEnd, type KeywordSpan } from './line-reader.js';

const TYPE_KEYS = ['text', 'number', 'boolean', 'map', 'list', 'any'] as const;
const STATEMENT_KEYS: KeywordKey[] = ['compute', 'decide', 'run', 'goto', 'launch', 'ask', 'action', 'set', 'fail', 'wait', 'emit'];

/** Parses the lines of one program. Returns undefined when there is no machine at all. */
export class Parser {
  /** Where each keyword was, when recorded (`recordSpans`); translation needs them, compilation does not. */
  readonly spans: KeywordSpan[] | null;
  constructor(
    private readonly index: KeywordIndex,
    private readonly sink: DiagnosticSink,
    recordSpans = false,
  ) {
    this.spans = recordSpans ? [] : null;
  }

  private reader(line: SourceLine): LineReader {
    return new LineReader(line, this.index, this.sink, this.spans);
  }

  /** Reports anything left on the line. */
  private end(r: LineReader): boolean {
    if (r.atEnd()) return true;
    r.fail(generic('endOfLine'));
    return false;
  }

  /** A line that must have no children. */
  private noChildren(line: SourceLine): void {
    const child = line.children[0];
    if (child) this.sink.expected(child.positionOf(0), generic('nothing'), child.text.split(/\s/)[0] ?? '');
  }

  machine(roots: SourceLine[]): MachineNode | undefined {
    let machine: MachineNode | undefined;
    for (const line of roots) {
      const r = this.reader(line);
      if (machine || !r.keyword('machine')) {
        r.fail(machine ? generic('endOfLine') : keywords('machine'));
        continue;
      }
      const id = r.machineId();
      if (!id) continue;
      this.end(r);
      machine = { at: line.positionOf(0), name: id.name, params: [], main: [], mainAt: line.positionOf(0), flows: [], subscriptions: [], schedules: [] };
      for (const section of line.children) this.section(section, machine);
    }
    if (!machine && roots.length === 0) this.sink.expected({ line: 1, column: 1 }, keywords('machine'), '');
    return machine;
  }

  private section(line: SourceLine, machine: MachineNode): void {
    const r = this.reader(line);
    const key = r.keyword('accepts', 'implements', 'flows', 'subscribes', 'schedule');
    if (!key) {
      r.fail(keywords('accepts', 'implements', 'flows', 'subscribes', 'schedule'));
      return;
    }
    if (key === 'schedule') {
      this.schedule(r, machine);
      this.noChildren(line);
      return;
    }
    if (key === 'subscribes') {
      this.subscribes(line, r, machine);
      return;
    }
    if (!this.end(r)) return;
    if (key === 'accepts') {
      for (const child of line.children) {
        const field = this.field(this.reader(child), true);
        if (field) machine.params.push(field);
        this.noChildren(child);
      }
    } else if (key === 'implements') {
      machine.mainAt = line.positionOf(0);
      machine.main.push(...this.block(line.children, machine));
    } else {
      for (const child of line.children) {
        const cr = this.reader(child);
        if (!cr.expectKeyword('flow')) continue;
        const name = cr.name();
        if (!name || !this.end(cr)) continue;
        if (child.children.length === 0) cr.fail(generic('aStatement'));
        machine.flows.push({ at: child.positionOf(0), name: name.name, body: this.block(child.children) });
      }
    }
  }

  private subscribes(line: SourceLine, r: LineReader, machine: MachineNode): void {
    if (!r.atEnd()) this.subscription(r, machine);
    for (const child of line.children) {
      this.subscription(this.reader(child), machine);
      this.noChildren(child);
    }
  }

  private subscription(r: LineReader, machine: MachineNode): void {
    const at = r.at();
    if (!r.expectKeyword('on')) return;
    const event = r.string();
    if (event === undefined || !r.expectKeyword('run')) return;
    const name = r.name();
    if (!name) return;
    // `on "a.daily" run h as "svc-reports"`: the subscriber's runs act as that service account.
    let runAs: string | undefined;
    if (r.keyword('as')) {
      runAs = r.string();
      if (runAs === undefined) return;
    }
    if (!this.end(r)) return;
    machine.subscriptions.push({ at, on: event, run: name.name, runAt: name.at, ...(runAs !== undefined ? { runAs } : {}) });
  }

  /** `schedule NAME "CRON" [in "ZONE"] [as "SVC"]` or `schedule NAME every "DURATION" [as "SVC"]` (issue 17). */
  private schedule(r: LineReader, machine: MachineNode): void {
    const at = r.at();
    const name = r.name();
    if (!name) return;
    const node: MachineNode['schedules'][number] = { at, name: name.name };
    if (r.keyword('every')) {
      const every = r.string();
      if (every === undefined) return;
      node.every = every;
    } else {
      const cron = r.string();
      if (cron === undefined) return;
      node.cron = cron;
      if (r.keyword('in')) {
        const zone = r.string();
        if (zone === undefined) return;
        node.timezone = zone;
      }
    }
    if (r.keyword('as')) {
      const runAs = r.string();
      if (runAs === undefined) return;
      node.runAs = runAs;
    }
    if (this.end(r)) machine.schedules.push(node);
  }

  /** `NAME as TYPE [, is required] [, default VALUE]` (params) or `NAME as TYPE` (returns). */
  private field(r: LineReader, isParam: boolean): Field | undefined {
    const name = r.name();
    if (!name || !r.expectKeyword('as')) return undefined;
    const type = r.keyword(...TYPE_KEYS);
    if (!type) return r.fail(keywords(...TYPE_KEYS));
    const field: Field = { at: name.at, name: name.name, type: type as VarType };
    if (!isParam) return field;
    while (r.punct(',')) {
      if (r.keyword('required')) field.required = true;
      else if (r.keyword('default')) {
        const value = r.literal();
        if (!value) return undefined;
        field.default = value.value as JsonValue;
      } else return r.fail(keywords('required', 'default'));
    }
    return this.end(r) ? field : undefined;
  }

  /** A list of statements (a flow body, a branch). `machine` allows `subscribes` (inside `implements`). */
  private block(lines: SourceLine[], machine?: MachineNode): Statement[] {
    const out: Statement[] = [];
    for (const line of lines) {
      const r = this.reader(line);
      if (machine && r.keyword('subscribes')) {
        this.subscribes(line, r, machine);
        continue;
      }
      const statement = this.statement(line, r);
      if (statement) out.push(statement);
    }
    return out;
  }

  private statement(line: SourceLine, r: LineReader): Statement | undefined {
    const at = line.positionOf(0);
    const key = r.keyword(...STATEMENT_KEYS);
    switch (key) {
      case 'compute': {
        this.noChildren(line);
        const name = r.name();
        const expression = name && r.expression(false);
        return name && expression ? { kind: 'compute', at, name: name.name, expression: expression.source } : undefined;
      }
      case 'set': {
        this.noChildren(line);
        const target = r.expression(false);
        if (!target) return undefined;
        const eq = splitAssignment(target.source);
        if (!eq) return r.fail(() => '"TARGET = EXPRESSION"');
        return { kind: 'set', at, target: eq.target, expression: eq.expression };
      }
      case 'fail': {
        this.noChildren(line);
        const code = r.name();
        if (!code) return undefined;
        let description: string | undefined;
        if (r.punct(',')) {
          description = r.string();
          if (description === undefined) return undefined;
        }
        if (!this.end(r)) return undefined;
        return { kind: 'fail', at, code: code.name, ...(description !== undefined ? { description } : {}) };
      }
      case 'run':
      case 'goto': {
        this.noChildren(line);
        const target = this.flowRef(r);
        if (!target || !this.end(r)) return undefined;
        return { kind: key, at, flow: target.name, flowAt: target.at };
      }
      case 'decide':
        return this.decide(line, r, at);
      case 'launch':
      case 'action':
        return this.call(line, r, at, key);
      case 'ask':
        return this.ask(line, r, at);
      case 'wait':
      case 'emit':
        return this.waitOrEmit(line, r, at, key);
      default:
        return r.fail(keywords(...STATEMENT_KEYS));
    }
  }

  /** `flow(NAME)` */
  private flowRef(r: LineReader): { name: string; at: Position } | undefined {
    if (!r.expectKeyword('flow') || !r.expectPunct('(')) return undefined;
    const name = r.name();
    if (!name || !r.expectPunct(')')) return undefined;
    return name;
  }

  private decide(line: SourceLine, r: LineReader, at: Position): Statement | undefined {
    const name = r.name();
    if (!name || !this.end(r)) return undefined;
    const branches: Branch[] = [];
    let otherwise: Statement[] | undefined;
    for (const child of line.children) {
      const cr = this.reader(child);
      const key = cr.keyword('when', 'otherwise');
      if (!key) {
        cr.fail(keywords('when', 'otherwise'));
        continue;
      }
      const inline = this.inlineDispatch(child, cr);
      if (key === 'when') {
        const condition = cr.expression(false);
        if (!condition) continue;
        const body = inline ? [inline] : this.block(child.children);
        if (body.length === 0 && !inline) this.sink.expected(child.positionOf(child.text.length), keywords(...STATEMENT_KEYS), '');
        branches.push({ at: child.positionOf(0), condition: condition.source, body });
      } else {
        if (!inline && !this.end(cr)) continue;
        otherwise = inline ? [inline] : this.block(child.children);
      }
      if (inline) this.noChildren(child);
    }
    if (branches.length === 0) this.sink.expected(line.positionOf(line.text.length), keywords('when'), '');
    return { kind: 'decide', at, name: name.name, branches, ...(otherwise ? { otherwise } : {}) };
  }

  /**
   * A branch written on one line: `when COND run flow(x)` / `otherwise goto flow(y)`. Finds the last
   * `run|goto flow(` outside strings and brackets, parses it, and cuts it off the line.
   */
  private inlineDispatch(line: SourceLine, r: LineReader): Statement | undefined {
    const text = line.text;
    let depth = 0;
    let found: { offset: number; statement: Statement; spans: KeywordSpan[] } | undefined;
    // Problems of a probe that does not match are not problems of the program: a sink of its own.
    const probe = new LineReader(line, this.index, new DiagnosticSink(this.sink.table, undefined), this.spans);
    for (let i = r.pos; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '"' || ch === "'") {
        i = readQuotedEnd(text, i) - 1;
        continue;
      }
      if (ch === '(' || ch === '[' || ch === '{') depth++;
      else if (ch === ')' || ch === ']' || ch === '}') depth--;
      else if (depth === 0 && ch !== ' ' && ch !== '\t' && (i === r.pos || isBlank(text.charCodeAt(i - 1)))) {
        const spansBefore = this.spans?.length ?? 0;
        probe.pos = i;
        const key = probe.keyword('run', 'goto');
        const target = key && probe.keyword('flow') && probe.punct('(') ? probe.name() : undefined;
        if (key && target && probe.punct(')') && probe.atEnd()) {
          found = { offset: i, statement: { kind: key as 'run' | 'goto', at: line.positionOf(i), flow: target.name, flowAt: target.at }, spans: this.spans?.slice(spansBefore) ?? [] };
        }
        if (this.spans) this.spans.length = spansBefore;
      }
    }
    if (!found) return undefined;
    this.spans?.push(...found.spans);
    line.text = text.slice(0, found.offset).trimEnd();
    return found.statement;
  }

  /** `launch NAME, machine: "id" key: expr…` and `action NAME call machine: "id" key: expr…`, arguments also on child lines. */
  private call(line: SourceLine, r: LineReader, at: Position, key: 'launch' | 'action'): Statement | undefined {
    const name = r.name();
    if (!name) return undefined;
    if (key === 'launch' ? !r.expectPunct(',') : !r.expectKeyword('call')) return undefined;
    if (!r.expectKeyword('machine') || !r.expectPunct(':')) return undefined;
    const machine = r.machineId();
    if (!machine) return undefined;
    const args: Arg[] = [];
    if (!r.args(args)) return undefined;
    for (const child of line.children) {
      this.reader(child).args(args);
      this.noChildren(child);
    }
    return { kind: key === 'launch' ? 'launch' : 'call', at, name: name.name, machine: machine.name, args };
  }

  /**
   * `wait NAME, for: MS`, `wait NAME, until: EXPR`, `wait NAME, on: "EVENT" key: expr…` and
   * `emit NAME, on: "EVENT" key: expr…`; `key: expr` arguments also on child lines.
   */
  private waitOrEmit(line: SourceLine, r: LineReader, at: Position, key: 'wait' | 'emit'): Statement | undefined {
    const name = r.name();
    if (!name || !r.expectPunct(',')) return undefined;
    const how = key === 'emit' ? (r.expectKeyword('on') ? 'on' : undefined) : r.keyword('for', 'until', 'on');
    if (!how) return key === 'emit' ? undefined : r.fail(keywords('for', 'until', 'on'));
    if (!r.expectPunct(':')) return undefined;
    if (how !== 'on') {
      this.noChildren(line);
      if (how === 'until') {
        const until = r.expression(false);
        return until ? { kind: 'wait', at, name: name.name, until: until.source, args: [] } : undefined;
      }
      const ms = r.literal();
      if (!ms) return undefined;
      if (typeof ms.value !== 'number' || !(ms.value >= 0)) return r.fail(generic('aValue'));
      return this.end(r) ? { kind: 'wait', at, name: name.name, durationMs: ms.value, args: [] } : undefined;
    }
    const event = r.string();
    if (event === undefined) return undefined;
    const args: Arg[] = [];
    if (!r.args(args)) return undefined;
    for (const child of line.children) {
      this.reader(child).args(args);
      this.noChildren(child);
    }
    return key === 'emit' ? { kind: 'emit', at, name: name.name, event, args } : { kind: 'wait', at, name: name.name, event, args };
  }

  /** `ask NAME, using: "provider:model"` or `ask NAME, from: "machine"`, then its clauses on child lines. */
  private ask(line: SourceLine, r: LineReader, at: Position): Statement | undefined {
    const name = r.name();
    if (!name || !r.expectPunct(',')) return undefined;
    const via = r.keyword('using', 'from');
    if (!via) return r.fail(keywords('using', 'from'));
    if (!r.expectPunct(':')) return undefined;
    const target = via === 'using' ? r.string() : r.machineId();
    if (target === undefined) return undefined;
    const ask: Extract<Statement, { kind: 'ask' }> = { kind: 'ask', at, name: name.name, args: [], returns: [], assuming: {} };
    if (via === 'using') ask.model = target as string;
    else ask.machine = (target as { name: string }).name;
    if (!r.args(ask.args)) return undefined;
    for (const child of line.children) {
      this.clause(child, ask);
      this.noChildren(child);
    }
    return ask;
  }

  private clause(line: SourceLine, ask: Extract<Statement, { kind: 'ask' }>): void {
    const r = this.reader(line);
    const key = r.keyword('with', 'returns', 'assuming');
    if (key === 'with') {
      if (!r.expectKeyword('task')) return;
      const task = r.expression(false);
      if (task) ask.task = task.source;
    } else if (key === 'returns') {
      do {
        const field = this.field(r, false);
        if (!field) return;
        ask.returns.push(field);
      } while (r.punct(','));
      this.end(r);
    } else if (key === 'assuming') {
      do {
        const field = r.name();
        if (!field || !r.expectPunct(':')) return;
        const value = r.literal();
        if (!value) return;
        ask.assuming[field.name] = value.value as JsonValue;
      } while (r.punct(','));
      this.end(r);
    } else if (r.atArgKey()) {
      r.args(ask.args);
    } else {
      r.fail((t) => `${keywords('with', 'returns', 'assuming')(t)}, key: value`);
    }
  }
}

/** Splits `target = expression` at the first `=` that is not part of `==`, `<=`, `>=`, `!=`. */
function splitAssignment(source: string): { target: string; expression: string } | undefined {
  const m = /^([^=<>!]+?)\s*=(?!=)\s*(.+)$/s.exec(source);
  if (!m) return undefined;
  const target = m[1]!.trim();
  if (!/^\$?[\p{L}_][\p{L}\p{N}_.[\]"'$]*$/u.test(target)) return undefined;
  return { target, expression: m[2]!.trim() };
}

/** Space, tab or line break (the separators of words on a logical line). */
function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 0x3000;
}
