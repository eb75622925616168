/**
 * What `flowrun check` found in one file, and how it prints: each problem with its place, the
 * source line and a caret under the column for `.flow` programs, or as JSON for scripts.
 */
import type { FlowDefinition } from '../core/model.js';
import type { ValidationIssue } from '../core/errors.js';
import type { Diagnostic } from '../dsl/compile-flow.js';
import { localizedIssueMessage } from '../dsl/diagnostics.js';
import { printable } from './printable.js';
import type { Style } from './style.js';

/** One problem of a checked file. Lines and columns are 1-based; a `.json` file's problems have a `path` instead. */
export interface CheckProblem {
  severity: 'error' | 'warning';
  /** In the `.flow` file's language. */
  message: string;
  /** The English message, when the file is in another language. */
  english?: string;
  code?: string;
  line?: number;
  column?: number;
  /** How many columns the caret underlines (the misspelt word). */
  length?: number;
  /** Where in a JSON definition (for `.json` files; for `.flow` files only in `--json` output). */
  path?: string;
}

/** The result of checking one file. */
export interface CheckedFile {
  file: string;
  ok: boolean;
  /** The flow's id when it was read. */
  flowId?: string;
  problems: CheckProblem[];
}

/** A compiler diagnostic as a problem, its column moved onto the mistake inside an expression when the message says where. */
export function problemFromDiagnostic(d: Diagnostic, sourceLine: string | undefined): CheckProblem {
  let column = d.column;
  let found = d.found && sourceLine?.startsWith(d.found, column - 1) ? width(d.found) : undefined;
  // The validator places an expression's problem at its step; its message says where inside:
  // a column (a syntax error) or the name it does not know.
  const atColumn = /at column (\d+) in expression "(.*)"$/.exec(d.message);
  const named = /^(?:unknown name )?"([^"]+)" in "(.*?)"[;:]? /.exec(d.message);
  const offset = (expression: string | undefined): number => (expression !== undefined && sourceLine !== undefined ? sourceLine.indexOf(expression) : -1);
  if (atColumn && offset(atColumn[2]) >= 0) column = offset(atColumn[2]) + Number(atColumn[1]);
  else if (named && offset(named[2]) >= 0 && named[2]!.includes(named[1]!)) {
    column = offset(named[2]) + named[2]!.indexOf(named[1]!) + 1;
    found = width(named[1]!);
  }
  return {
    severity: 'error',
    message: d.localizedMessage,
    ...(d.localizedMessage !== d.message ? { english: d.message } : {}),
    code: d.code,
    line: d.line,
    column,
    ...(found ? { length: found } : {}),
    ...(d.path ? { path: d.path } : {}),
  };
}

/**
 * A validator issue or warning (definition path + message) as a problem. In a `.flow` program it
 * is placed on the line of the step the path names (steps keep their source line), without the
 * path, and said in the program's `language` (the English message beside it when that differs).
 */
export function problemFromIssue(severity: CheckProblem['severity'], issue: ValidationIssue, flow: FlowDefinition | undefined, isProgram: boolean, language = 'en'): CheckProblem {
  const line = isProgram && flow ? stepLine(flow, issue.path) : undefined;
  const message = isProgram ? localizedIssueMessage(issue, language) : issue.message;
  const english = message !== issue.message ? { english: issue.message } : {};
  if (line === undefined) return { severity, message: issue.path ? `${issue.path}: ${message}` : message, ...english, ...(issue.path ? { path: issue.path } : {}) };
  return { severity, message, ...english, line, path: issue.path };
}

/** The source line of the step a definition path points into (`actions.main.steps.x.…`, `subflows.f.steps.x.…`). */
function stepLine(flow: FlowDefinition, path: string): number | undefined {
  const match = /^(?:actions\.([^.]+)|subflows\.([^.]+))\.steps\.([^.[]+)/.exec(path);
  if (!match) return undefined;
  const graph = match[1] !== undefined ? flow.actions[match[1]] : flow.subflows?.[match[2]!];
  const step = graph?.steps[match[3]!] as { source?: { line?: number } } | undefined;
  return typeof step?.source?.line === 'number' ? step.source.line : undefined;
}

/** The problems of one file as text: `file:line:column: error: message`, then the line with a caret. */
export function formatCheckedFile(checked: CheckedFile, lines: readonly string[] | undefined, style: Style): string {
  // A file with warnings only passed: it says so first, then the warnings.
  let text = checked.ok ? `${style.ok('ok')}  ${printable(checked.file)}${checked.flowId ? ` (${printable(checked.flowId)})` : ''}\n` : '';
  for (const p of checked.problems) {
    const place = p.line !== undefined ? `${checked.file}:${p.line}${p.column !== undefined ? `:${p.column}` : ''}` : checked.file;
    const label = p.severity === 'error' ? style.error('error') : style.warning('warning');
    text += `${style.bold(printable(place))}: ${label}: ${printable(p.message)}\n`;
    const source = p.line !== undefined ? lines?.[p.line - 1] : undefined;
    if (source !== undefined) text += excerpt(source, p, style);
    if (p.english) text += `  ${style.dim(`(en) ${printable(p.english)}`)}\n`;
  }
  return text;
}

/** The source line under a gutter with its number, and a caret under the column. */
function excerpt(source: string, p: CheckProblem, style: Style): string {
  const number = String(p.line);
  const gutter = ' '.repeat(number.length);
  let text = `  ${style.dim(`${number} |`)} ${printable(source)}\n`;
  if (p.column !== undefined) {
    const before = source.slice(0, Math.max(0, p.column - 1));
    const caret = '^'.repeat(Math.max(1, p.length ?? 1));
    text += `  ${style.dim(`${gutter} |`)} ${padding(before)}${p.severity === 'error' ? style.error(caret) : style.warning(caret)}\n`;
  }
  return text;
}

/** How many columns `text` takes on screen. */
function width(text: string): number {
  return padding(text).length;
}

/** Blank space as wide on screen as `text`: tabs kept, East Asian wide characters two columns. */
function padding(text: string): string {
  let pad = '';
  for (const char of text) pad += char === '\t' ? '\t' : WIDE.test(char) ? '  ' : ' ';
  return pad;
}

// Wide and fullwidth characters (CJK ideographs, kana, Hangul, fullwidth forms) take two columns.
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u;
