/** Every command's `--help` ends with an example a newcomer can copy. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { allCommands, commandPath } from './help-examples.js';
import { main } from './main.js';

async function help(path: string): Promise<string> {
  let out = '';
  await main([...(path ? path.split(' ') : []), '--help'], { out: (t) => void (out += t), err: (t) => void (out += t), isTty: false });
  return out;
}

/** The command tree as main builds it, read from the program's own help. */
async function commandPaths(): Promise<string[]> {
  const paths: string[] = [];
  const walk = async (path: string): Promise<void> => {
    paths.push(path);
    const text = await help(path);
    const listed = text.split('Commands:\n')[1]?.split('\n\n')[0] ?? '';
    for (const line of listed.split('\n')) {
      const name = /^ {2}(\S+)/.exec(line)?.[1];
      if (name && name !== 'help') await walk(path ? `${path} ${name}` : name);
    }
  };
  await walk('');
  return paths;
}

describe('--help', () => {
  it('shows an example under every command', async () => {
    const paths = await commandPaths();
    expect(paths.length).toBeGreaterThan(30);
    const without: string[] = [];
    for (const path of paths) if (!/\nExamples?:\n {2}\$ flowrun /.test(await help(path))) without.push(path || '(flowrun)');
    expect(without).toEqual([]);
  });

  it('names commands by their path from the program', () => {
    const program = new Command('flowrun');
    program.command('runs').command('start');
    expect(allCommands(program).map(commandPath)).toEqual(['', 'runs', 'runs start']);
  });
});
