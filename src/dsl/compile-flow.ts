/**
 * `compileFlow`: the flow language (seed 001) compiled to the FlowDefinition a JSON or TypeScript
 * author writes (DESIGN.md §2). A machine becomes a flow: `implements` is its `main` action,
 * `flows` its subflows, `subscribes` its subscriptions, `accepts` the action's params; the
 * machine's output is the last step's output (the action declares no returned outputs).
 */
import type { FlowDefinition, ParamDefinition, SubflowDefinition } from '../core/model.js';
import { messageOf } from '../core/validation/messages.js';
import { validateFlow } from '../core/validation/validate-flow.js';
import type { MachineNode, Statement } from './ast.js';
import { StepGraphBuilder } from './build-steps.js';
import { DiagnosticSink, type Diagnostic } from './diagnostics.js';
import { en } from './keywords/en.js';
import type { KeywordTable } from './keywords/keyword-table.js';
import { LANGUAGE_CODES, keywordIndex, languageOf } from './keywords/languages.js';
import { readLines, type Position } from './lexer.js';
import type { KeywordSpan } from './line-reader.js';
import { Parser } from './parser.js';

export type { Diagnostic, DiagnosticCode } from './diagnostics.js';

/** Options of {@link compileFlow}. */
export interface CompileFlowOptions {
  /** The language of a program without a `// language: xx` first line (default `en`). The header wins when present. */
  language?: string;
  /** The file name, recorded in every step's `source` and in diagnostics. */
  file?: string;
}

/** The result of {@link compileFlow}: the definition, or every problem found. */
export type CompileFlowResult = { ok: true; flow: FlowDefinition } | { ok: false; diagnostics: Diagnostic[] };

/** What the parser saw, for tools (translation). */
export interface ParsedProgram {
  machine: MachineNode | undefined;
  table: KeywordTable;
  /** Where each keyword was (only with `recordSpans`). */
  spans: KeywordSpan[] | null;
  header: { language: string; at: Position } | undefined;
  sink: DiagnosticSink;
}

/**
 * Compiles a `.flow` program to a FlowDefinition, checked by `validateFlow` like any other.
 * Never throws on any input: syntax errors, unknown flows and invalid definitions come back as
 * diagnostics with line, column, what was expected and what was found, in English and in the
 * program's language. Deterministic: the same text always gives the same definition, and the
 * same program in any of the seven languages gives an identical one.
 *
 * @example
 * const result = compileFlow(text, { file: 'report.flow' });
 * if (!result.ok) for (const d of result.diagnostics) console.log(`${d.line}:${d.column} ${d.message}`);
 */
export function compileFlow(text: string, options: CompileFlowOptions = {}): CompileFlowResult {
  const opts: CompileFlowOptions = typeof options === 'object' && options !== null ? options : {};
  const file = typeof opts.file === 'string' ? opts.file : undefined;
  try {
    const parsed = parseProgram(text, opts);
    const { machine, sink } = parsed;
    if (!machine) return { ok: false, diagnostics: sorted(sink.diagnostics) };
    // Names and flow references are checked even after syntax errors, so one pass reports them all;
    // the definition is validated only when everything before was clean.
    const flow = toDefinition(machine, sink, file);
    if (sink.diagnostics.length > 0) return { ok: false, diagnostics: sorted(sink.diagnostics) };
    return flow;
  } catch (error) {
    // A compiler bug must still not escape as an exception on user input.
    const message = `internal compiler error: ${error instanceof Error ? error.message : String(error)}`;
    return { ok: false, diagnostics: [{ line: 1, column: 1, code: 'SYNTAX', message, localizedMessage: message, language: 'en', ...(file !== undefined ? { file } : {}) }] };
  }
}

/**
 * The language a program is written in, as `compileFlow` reads it: its `// language: xx` first
 * line, else `options.language`, else `en`; a code that is not one of the seven gives `en`.
 */
export function programLanguage(text: string, options: CompileFlowOptions = {}): string {
  const source = typeof text === 'string' ? (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) : '';
  const requested = readLines(source).header?.language ?? (typeof options.language === 'string' ? options.language.toLowerCase() : 'en');
  return languageOf(requested)?.language ?? 'en';
}

/** Lexes and parses a program in its language; the machine is undefined when there is none. */
export function parseProgram(text: string, options: CompileFlowOptions & { recordSpans?: boolean } = {}): ParsedProgram {
  // A byte-order mark some editors write first is not part of the program.
  const source = typeof text === 'string' ? (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) : '';
  const file = typeof options.file === 'string' ? options.file : undefined;
  const lexed = readLines(source);
  const requested = lexed.header?.language ?? (typeof options.language === 'string' ? options.language.toLowerCase() : 'en');
  const table = languageOf(requested) ?? en;
  const sink = new DiagnosticSink(table, file);
  if (typeof text !== 'string') sink.expected({ line: 1, column: 1 }, () => 'program text (a string)', typeof text);
  if (!languageOf(requested)) sink.unknownLanguage(lexed.header?.at ?? { line: 1, column: 1 }, requested, LANGUAGE_CODES);
  for (const problem of lexed.problems) {
    if (problem.kind === 'unclosed') sink.unclosed(problem.at, problem.what);
    else sink.indentation(problem.at, problem.what);
  }
  const parser = new Parser(keywordIndex(table), sink, options.recordSpans === true);
  const machine = parser.machine(lexed.roots);
  return { machine, table, spans: parser.spans, header: lexed.header, sink };
}

/** Builds the definition, checks flow references, then validates it and maps each issue to a line. */
function toDefinition(machine: MachineNode, sink: DiagnosticSink, file: string | undefined): CompileFlowResult {
  const where = new Map<string, Position>([['id', machine.at], ['actions.main', machine.mainAt]]);
  const flowNames = new Map<string, Position>();
  for (const flow of machine.flows) {
    const first = flowNames.get(flow.name);
    if (first) sink.duplicate(flow.at, (t) => t.words.flow[0]!, flow.name, first.line);
    else flowNames.set(flow.name, flow.at);
  }
  const known = [...flowNames.keys()];
  const checkRefs = (body: Statement[]): void => {
    for (const s of body) {
      if ((s.kind === 'run' || s.kind === 'goto') && !flowNames.has(s.flow)) sink.unknownFlow(s.flowAt, s.flow, known);
      if (s.kind === 'decide') {
        for (const b of s.branches) checkRefs(b.body);
        if (s.otherwise) checkRefs(s.otherwise);
      }
    }
  };
  checkRefs(machine.main);
  for (const flow of machine.flows) checkRefs(flow.body);
  machine.subscriptions.forEach((sub, i) => {
    where.set(`subscriptions[${i}]`, sub.at);
    if (!flowNames.has(sub.run)) sink.unknownFlow(sub.runAt, sub.run, known);
  });

  machine.schedules.forEach((s, i) => where.set(`schedules[${i}]`, s.at));

  const params: Record<string, ParamDefinition> = {};
  const paramAt = new Map<string, Position>();
  for (const p of machine.params) {
    const first = paramAt.get(p.name);
    if (first) {
      sink.duplicate(p.at, (t) => t.words.accepts[0]!, p.name, first.line);
      continue;
    }
    paramAt.set(p.name, p.at);
    where.set(`actions.main.params.${p.name}`, p.at);
    params[p.name] = { type: p.type, ...(p.required ? { required: true } : {}), ...(p.default !== undefined ? { default: p.default } : {}) };
  }

  // Step positions are turned into definition paths only if validation finds something to report.
  const builders: { prefix: string; positions: Map<string, Position> }[] = [];
  const graph = (prefix: string, body: Statement[], at: Position): SubflowDefinition => {
    const builder = new StepGraphBuilder(file, (name, at, first) => sink.duplicate(at, () => 'step', name, first.line));
    const built = builder.build(body, at);
    builders.push({ prefix, positions: builder.positions });
    return built;
  };
  const main = graph('actions.main', machine.main, machine.mainAt);
  const subflows: Record<string, SubflowDefinition> = {};
  for (const flow of machine.flows) {
    if (flowNames.get(flow.name) !== flow.at) continue;
    where.set(`subflows.${flow.name}`, flow.at);
    subflows[flow.name] = graph(`subflows.${flow.name}`, flow.body, flow.at);
  }

  const definition: FlowDefinition = {
    id: machine.name,
    actions: { main: { ...(Object.keys(params).length > 0 ? { params } : {}), startAt: main.startAt, steps: main.steps } },
    ...(machine.flows.length > 0 ? { subflows } : {}),
    ...(machine.schedules.length > 0 ? { schedules: machine.schedules.map(({ at: _at, ...s }) => s) } : {}),
    ...(machine.subscriptions.length > 0 ? { subscriptions: machine.subscriptions.map((s) => ({ on: s.on, run: s.run, ...(s.runAs !== undefined ? { runAs: s.runAs } : {}) })) } : {}),
  };
  // Validated even after syntax and name errors, so a mistake in an expression shows up in the
  // same pass as a misspelt keyword. A line that already has a problem gets no second one from
  // the validator: it is usually the same mistake seen again (an unknown flow is also a dangling call).
  const flagged = new Set(sink.diagnostics.map((d) => d.line));
  const namesFlagged = sink.diagnostics.filter((d) => d.code === 'UNKNOWN_FLOW' && d.found).map((d) => `"${d.found}"`);
  const validation = validateFlow(definition);
  if (validation.ok) return sink.diagnostics.length > 0 ? { ok: false, diagnostics: sink.diagnostics } : { ok: true, flow: validation.flow };
  for (const { prefix, positions } of builders) for (const [id, at] of positions) where.set(`${prefix}.steps.${id}`, at);
  for (const issue of validation.issues) {
    const at = locate(where, issue.path, machine.at);
    if (!flagged.has(at.line) && !namesFlagged.some((name) => issue.message.includes(name))) sink.invalid(at, issue.path, messageOf(issue));
  }
  return { ok: false, diagnostics: sink.diagnostics };
}

/** The position of the longest known path that is a prefix of `path`. */
function locate(where: Map<string, Position>, path: string, fallback: Position): Position {
  let best: { length: number; at: Position } | undefined;
  for (const [prefix, at] of where) {
    const matches = path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
    if (matches && (!best || prefix.length > best.length)) best = { length: prefix.length, at };
  }
  return best?.at ?? fallback;
}

function sorted(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => a.line - b.line || a.column - b.column);
}
