/**
 * `flowrun check FILE…`: validates flow files (`.json` definitions, `.flow` programs) and prints
 * every problem of every file at once: for a program, its line and column, the line itself with a
 * caret under the mistake, and a did-you-mean where a name is close to a known one, in the
 * program's language; for a definition, the path of the problem. Calls of other flows are checked
 * as a deploy checks them (check-flow-calls.ts), against the flows of the files given and of the
 * other flow files in their folders (the flows `run` deploys beside them); a call of a flow found
 * in neither is a warning, checked when the call runs. Warnings never fail the check.
 */
import type { Command } from 'commander';
import type { FlowDefinition } from '../../core/model.js';
import { checkFlowCalls } from '../../core/validation/check-flow-calls.js';
import { validateFlow } from '../../core/validation/validate-flow.js';
import { formatCheckedFile, problemFromDiagnostic, problemFromIssue, type CheckedFile } from '../check-report.js';
import { styleOf, type CliIo } from '../cli-io.js';
import { looksLikeFlow, readFlowSource, readSiblingFlowFiles, type FlowSource } from '../flow-files.js';

/** Adds `check` to the program. */
export function registerCheckCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('check')
    .description('validate flow files (.json, .flow), their calls checked against the other flow files given and beside them; exit 1 when any has a problem')
    .argument('<files...>', 'flow files')
    .option('--json', 'print the problems as JSON: {ok, files: [{file, ok, flowId, problems: [{severity, message, english, line, column, path}]}]} (message in a .flow file\'s language, english when that differs)')
    .action(async (files: string[], options: { json?: boolean }) => {
      const sources: (FlowSource | Error)[] = [];
      for (const path of files) sources.push(await readFlowSource(path).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
      const known = await knownFlows(files, sources);
      const results = sources.map((source, i) => checkOne(files[i]!, source, known));
      if (options.json) io.out(`${JSON.stringify({ ok: results.every((r) => r.checked.ok), files: results.map((r) => r.checked) }, null, 2)}\n`);
      else for (const { checked, lines } of results) io.out(formatCheckedFile(checked, lines, styleOf(io)));
      setExit(results.every((r) => r.checked.ok) ? 0 : 1);
    });
}

/** Every problem of one file, and its lines when it is a program. */
function checkOne(path: string, source: FlowSource | Error, known: Map<string, FlowDefinition>): { checked: CheckedFile; lines?: string[] } {
  if (source instanceof Error) return { checked: { file: path, ok: false, problems: [{ severity: 'error', message: source.message }] } };
  const lines = source.programText?.split(/\r?\n/);
  if (source.diagnostics) return { checked: { file: path, ok: false, problems: source.diagnostics.map((d) => problemFromDiagnostic(d, lines?.[d.line - 1])) }, ...(lines ? { lines } : {}) };
  const isProgram = source.programText !== undefined;
  const result = validateFlow(source.definition);
  const flow = result.ok ? result.flow : looksLikeFlow(source.definition) ? source.definition : undefined;
  const calls = result.ok ? checkFlowCalls(result.flow, (target) => known.get(target.flowId)) : { issues: [], warnings: [] };
  const issues = result.ok ? calls.issues : result.issues;
  const problems = [
    ...issues.map((issue) => problemFromIssue('error', issue, flow, isProgram, source.language)),
    ...[...(result.warnings ?? []), ...calls.warnings].map((warning) => problemFromIssue('warning', warning, flow, isProgram, source.language)),
  ];
  const checked: CheckedFile = { file: path, ok: issues.length === 0 && result.ok, ...(flow && typeof flow.id === 'string' ? { flowId: flow.id } : {}), problems };
  return { checked, ...(lines ? { lines } : {}) };
}

/** The flows a call may name, by id: those of the files given, then those of other flow files in their folders. */
async function knownFlows(files: string[], sources: (FlowSource | Error)[]): Promise<Map<string, FlowDefinition>> {
  const known = new Map<string, FlowDefinition>();
  for (const file of files) {
    for (const sibling of await readSiblingFlowFiles(file)) {
      if (looksLikeFlow(sibling.definition) && validateFlow(sibling.definition).ok) known.set(sibling.definition.id, sibling.definition);
    }
  }
  for (const source of sources) {
    if (!(source instanceof Error) && looksLikeFlow(source.definition) && validateFlow(source.definition).ok) known.set(source.definition.id, source.definition);
  }
  return known;
}
