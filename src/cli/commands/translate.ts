/**
 * `flowrun translate FILE --to LANG`: prints a `.flow` program with its keywords in another of the
 * seven languages (names, strings, expressions and comments unchanged), so it compiles to the
 * identical definition. Exit 1 with diagnostics when the program does not compile.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { translateFlow } from '../../dsl/translate-flow.js';
import type { CliIo } from '../cli-io.js';
import { formatDiagnostic } from '../flow-files.js';

/** Adds `translate` to the program. */
export function registerTranslateCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('translate')
    .description('print a .flow program with its keywords in another language (en, es, fr, de, ja, zh, ko)')
    .argument('<file>', 'a flow program (.flow)')
    .requiredOption('--to <language>', 'the language to translate into')
    .action(async (file: string, options: { to: string }) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        io.err(`flowrun translate: cannot read ${file}: ${(error as Error).message}\n`);
        setExit(2);
        return;
      }
      const result = translateFlow(text, { to: options.to, file: basename(file) });
      if (!result.ok) {
        for (const d of result.diagnostics) io.err(`${formatDiagnostic(file, d)}\n`);
        setExit(1);
        return;
      }
      io.out(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
      setExit(0);
    });
}
