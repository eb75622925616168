/**
 * `flowrun events publish NAME [--payload JSON] [--event-id ID]`: publishes an event on a
 * flowrun server; every flow subscribed to it starts once per event id. Prints the runs started.
 */
import type { Command } from 'commander';
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
      io.out(result.runIds.length === 0 ? `published ${printable(name)}: no flow subscribes to it\n` : `published ${printable(name)}: started ${result.runIds.map(printable).join(', ')}\n`);
    }),
  );
}
