/**
 * `flowrun events publish NAME [--payload JSON] [--event-id ID]`: publishes an event on a
 * flowrun server; every flow subscribed to it starts once per event id, and runs waiting for it
 * resume. Prints the runs started and resumed, and each subscriber skipped with why.
 */
import type { Command } from 'commander';
import type { PublishedEventResult } from '../../client/client-types.js';
import type { CliIo } from '../cli-io.js';
import { printable } from '../printable.js';
import { parseJsonOption, remoteClient, runCliAction, withRemoteOptions, type RemoteOptions } from '../remote-client.js';

/** Adds `events publish` to the program. */
export function registerEventsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const events = program.command('events').description('publish events to a flowrun server');
  withRemoteOptions(
    events
      .command('publish')
      .description('publish an event: starts every subscribed flow once per event id')
      .argument('<name>')
      .option('-p, --payload <json>', 'the event payload, as JSON')
      .option('--event-id <id>', 'an id that makes publishing again start nothing new'),
  ).action((name: string, options: RemoteOptions & { payload?: string; eventId?: string }) =>
    runCliAction('events publish', io, setExit, async () => {
      const payload = parseJsonOption(options.payload, '--payload');
      const result = await remoteClient(options).publishEvent({ name, ...(payload !== undefined ? { payload } : {}), ...(options.eventId ? { eventId: options.eventId } : {}) });
      if (options.json) return io.out(`${JSON.stringify(result, null, 2)}\n`);
      io.out(describePublished(name, result));
    }),
  );
}

/** What a publish did, one line per kind of effect; "nothing" only when it started, resumed and skipped nothing. */
export function describePublished(name: string, result: PublishedEventResult): string {
  const lines: string[] = [];
  if (result.runIds.length > 0) lines.push(`started ${result.runIds.map(printable).join(', ')}`);
  if (result.resumedRunIds.length > 0) lines.push(`resumed ${result.resumedRunIds.map(printable).join(', ')}`);
  for (const s of result.skipped) {
    lines.push(`skipped ${printable(s.flowId)} v${s.flowVersion} (${printable(s.subscription)}): ${printable(s.code)}: ${printable(s.message)}`);
  }
  if (lines.length === 0) return `published ${printable(name)}: no flow subscribes to it and no run waits for it\n`;
  return `published ${printable(name)}:\n${lines.map((l) => `  ${l}\n`).join('')}`;
}
