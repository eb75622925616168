/**
 * `flowrun check FILE…`: validates flow files (`.json` definitions, `.flow` programs) and prints
 * every problem: its path in a definition, or `file:line:column` in a program. Calls of other
 * flows are checked as a deploy checks them (check-flow-calls.ts), against the flows of the
 * files given and of the other flow files in their folders (the flows `run` deploys beside them);
 * a call of a flow found in neither is a warning, checked when the call runs. Warnings never fail the check.
 */
import type { Command } from 'commander';
import type { FlowDefinition } from '../../core/model.js';
import { checkFlowCalls } from '../../core/validation/check-flow-calls.js';
import { validateFlow } from '../../core/validation/validate-flow.js';
import type { CliIo } from '../cli-io.js';
import { formatDiagnostic, looksLikeFlow, readFlowSource, readSiblingFlowFiles, type FlowSource } from '../flow-files.js';

/** Adds `check` to the program. */
export function registerCheckCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('check')
    .description('validate flow files (.json, .flow), their calls checked against the other flow files given and beside them; exit 1 when any has a problem')
    .argument('<files...>', 'flow files')
    .action(async (files: string[]) => {
      let bad = 0;
      const sources: (FlowSource | Error)[] = [];
      for (const path of files) sources.push(await readFlowSource(path).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
      const known = await knownFlows(files, sources);
      for (const [i, source] of sources.entries()) {
        const path = files[i]!;
        if (source instanceof Error) {
          bad++;
          io.out(`${source.message}\n`);
          continue;
        }
        if (source.diagnostics) {
          bad++;
          for (const d of source.diagnostics) io.out(`${formatDiagnostic(path, d)}\n`);
          continue;
        }
        const result = validateFlow(source.definition);
        const calls = result.ok ? checkFlowCalls(result.flow, (target) => known.get(target.flowId)) : { issues: [], warnings: [] };
        const issues = result.ok ? calls.issues : result.issues;
        if (issues.length === 0 && result.ok) io.out(`ok  ${path} (${result.flow.id})\n`);
        else bad++;
        for (const issue of issues) io.out(`${path}: ${issue.path || '(flow)'}: ${issue.message}\n`);
        for (const warning of [...(result.warnings ?? []), ...calls.warnings]) io.out(`${path}: warning: ${warning.path || '(flow)'}: ${warning.message}\n`);
      }
      setExit(bad > 0 ? 1 : 0);
    });
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
