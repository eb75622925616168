/**
 * `flowrun check FILE…`: validates flow files (`.json` definitions, `.flow` programs) and prints
 * every problem: its path in a definition, or `file:line:column` in a program.
 */
import type { Command } from 'commander';
import { validateFlow } from '../../core/validation/validate-flow.js';
import type { CliIo } from '../cli-io.js';
import { formatDiagnostic, readFlowSource } from '../flow-files.js';

/** Adds `check` to the program. */
export function registerCheckCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('check')
    .description('validate flow files (.json, .flow); exit 1 when any has a problem')
    .argument('<files...>', 'flow files')
    .action(async (files: string[]) => {
      let bad = 0;
      for (const path of files) {
        try {
          const { definition, diagnostics } = await readFlowSource(path);
          if (diagnostics) {
            bad++;
            for (const d of diagnostics) io.out(`${formatDiagnostic(path, d)}\n`);
            continue;
          }
          const result = validateFlow(definition);
          if (result.ok) {
            io.out(`ok  ${path} (${result.flow.id})\n`);
          } else {
            bad++;
            for (const issue of result.issues) io.out(`${path}: ${issue.path || '(flow)'}: ${issue.message}\n`);
          }
        } catch (error) {
          bad++;
          io.out(`${error instanceof Error ? error.message : String(error)}\n`);
        }
      }
      setExit(bad > 0 ? 1 : 0);
    });
}
