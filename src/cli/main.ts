/**
 * The `flowrun` command line: the composition root that reads argv, files and the environment,
 * picks a store and builds the engine. Each verb lives in `commands/<verb>.ts`.
 */
import { Command, CommanderError } from 'commander';
import { registerCheckCommand } from './commands/check.js';
import { registerRunCommand } from './commands/run.js';
import { registerTranslateCommand } from './commands/translate.js';
import { registerEventsCommand } from './commands/events.js';
import { registerFlowsCommand } from './commands/flows.js';
import { registerPrincipalsCommand } from './commands/principals.js';
import { registerRunsCommand } from './commands/runs.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSchedulesCommand } from './commands/schedules.js';
import { registerTokensCommand } from './commands/tokens.js';
import { registerWorkerCommand } from './commands/worker.js';
import type { CliIo } from './cli-io.js';
import { endQuietlyWhenStdoutCloses, processIo } from './cli-io.js';
import { addHelpExamples } from './help-examples.js';
import { printableLines } from './printable.js';
import { createStyle, isColorWanted, printableStyledLines } from './style.js';

/** Runs the CLI with these arguments (without `node` and the script); resolves to the exit code. */
export async function main(argv: string[], given: CliIo = processIo): Promise<number> {
  if (given === processIo) endQuietlyWhenStdoutCloses();
  // The last line of defence: whatever a command prints, no control character but newline and tab
  // reaches the terminal (fields are escaped where they are formatted; see printable.ts).
  const color = isColorWanted({ isTty: given.isTty, argv, env: process.env });
  const safe = color ? printableStyledLines : printableLines;
  const io: CliIo = { out: (text) => given.out(safe(text)), err: (text) => given.err(safe(text)), isTty: given.isTty, style: createStyle(color), errIsTty: given.errIsTty === true, log: given.log ?? ((text) => given.err(safe(text))) };
  const program = new Command()
    .name('flowrun')
    .description('A durable flow runtime for TypeScript: run, check and watch flows.')
    .version('0.1.0')
    // Read before parsing (isColorWanted), declared here so every command accepts it and --help lists it.
    .option('--no-color', 'plain output without colours (also NO_COLOR=1)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  registerRunCommand(program, io, setExit);
  registerCheckCommand(program, io, setExit);
  registerTranslateCommand(program, io, setExit);
  registerServeCommand(program, io, setExit);
  registerWorkerCommand(program, io, setExit);
  registerRunsCommand(program, io, setExit);
  registerFlowsCommand(program, io, setExit);
  registerEventsCommand(program, io, setExit);
  registerTokensCommand(program, io, setExit);
  registerPrincipalsCommand(program, io, setExit);
  registerSchedulesCommand(program, io, setExit); // issue 17
  addHelpExamples(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    io.err(`flowrun: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}
