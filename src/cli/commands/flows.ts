/**
 * `flowrun flows deploy|publish|list`: flows on a flowrun server, through the client. `deploy`
 * reads `.json` definitions and `.flow` programs (compiled here, so a mistake is reported with
 * its line before anything is sent).
 */
import type { Command } from 'commander';
import { FlowError } from '../../core/errors.js';
import type { CliIo } from '../cli-io.js';
import { printable } from '../printable.js';
import { looksLikeFlow, readFlowFile } from '../flow-files.js';
import { humanTime, parseCount, remoteClient, runCliAction, table, withRemoteOptions, type RemoteOptions } from '../remote-client.js';

/** Adds `flows` and its subcommands to the program. */
export function registerFlowsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const flows = program.command('flows').description('deploy, publish and list flows on a flowrun server');

  withRemoteOptions(
    flows
      .command('deploy')
      .description('deploy flow files (.json or .flow) as new versions')
      .argument('<files...>')
      .option('--publish', 'publish each deployed version'),
  ).action((files: string[], options: RemoteOptions & { publish?: boolean }) =>
    runCliAction('flows deploy', io, setExit, async () => {
      const client = remoteClient(options);
      const deployed: { file: string; id: string; version: number; published: boolean; warnings?: { path: string; message: string }[] }[] = [];
      for (const file of files) {
        const { definition, source } = await readFlowFile(file);
        if (!looksLikeFlow(definition)) throw new FlowError('INVALID_DEFINITION', `${file} is not a flow definition (it needs "id" and "actions")`);
        const ref = await client.deployFlow(definition, { publish: options.publish === true, ...(source ? { source } : {}) });
        deployed.push({ file, ...ref, published: options.publish === true });
        if (!options.json) io.out(`deployed ${ref.id} version ${ref.version}${options.publish ? ' (published)' : ''} from ${file}\n`);
        if (!options.json) for (const w of ref.warnings ?? []) io.out(`  warning: ${w.path || '(flow)'}: ${w.message}\n`);
      }
      if (options.json) io.out(`${JSON.stringify({ deployed }, null, 2)}\n`);
    }),
  );

  withRemoteOptions(flows.command('publish').description('publish a deployed version of a flow').argument('<flowId>').argument('<version>')).action(
    (flowId: string, version: string, options: RemoteOptions) =>
      runCliAction('flows publish', io, setExit, async () => {
        const ref = await remoteClient(options).publishFlow(flowId, parseCount(version, 'version')!);
        io.out(options.json ? `${JSON.stringify(ref, null, 2)}\n` : `published ${ref.id} version ${ref.version}\n`);
      }),
  );

  withRemoteOptions(flows.command('list').description('list the flows you may see')).action((options: RemoteOptions) =>
    runCliAction('flows list', io, setExit, async () => {
      const list = await remoteClient(options).listFlows();
      if (options.json) return io.out(`${JSON.stringify({ flows: list }, null, 2)}\n`);
      if (list.length === 0) return io.out('(no flows)\n');
      io.out(
        table(
          ['FLOW', 'LATEST', 'PUBLISHED', 'UPDATED', 'TITLE'],
          list.map((f) => [printable(f.flowId), String(f.latestVersion), f.publishedVersion === null ? '-' : String(f.publishedVersion), humanTime(f.updatedAt), printable(f.title ?? '')]),
        ),
      );
    }),
  );
}
