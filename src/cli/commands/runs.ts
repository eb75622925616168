/**
 * `flowrun runs list|start|get|update|cancel|logs|watch|batch-start|batch-get|batch-cancel`: runs
 * on a flowrun server, through the client.
 * Text for people by default, `--json` for scripts. `watch` follows the run live (resuming a
 * dropped connection) and exits 0 when it succeeded, 1 when it failed or was canceled.
 */
import type { Command } from 'commander';
import type { ListRunsOptions, Run, RunStatus } from '../../client/index.js';
import type { CliIo } from '../cli-io.js';
import { formatRunEvent } from '../format-run-event.js';
import { registerRunsBatchCommands } from './runs-batch.js';
import { printable } from '../printable.js';
import { collect, humanTime, humanTimesIn, parseCount, parseJsonOption, remoteClient, runCliAction, table, UsageError, withRemoteOptions, type RemoteOptions } from '../remote-client.js';

interface ListOptions extends RemoteOptions {
  limit?: string;
  marker?: string;
  flow?: string;
  status?: string;
  label?: string;
  tag?: string[];
  schedule?: string;
  all?: boolean;
  orderBy?: string;
  orderDir?: string;
  startTime?: string;
  endTime?: string;
  offset?: string;
}

/** Adds `runs` and its subcommands to the program. */
export function registerRunsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const runs = program.command('runs').description('list, read, cancel and watch runs on a flowrun server');

  withRemoteOptions(
    runs
      .command('list')
      .description('list the runs you may see, newest first')
      .option('-n, --limit <n>', 'runs per page', '20')
      .option('--marker <marker>', 'the page after this marker (printed under a page)')
      .option('--flow <flowId>', 'only runs of this flow')
      .option('--status <statuses>', 'only these statuses, comma-separated (ACTIVE,INACTIVE,SUCCEEDED,FAILED,CANCELED)')
      .option('--label <text>', 'only runs whose label contains this text')
      .option('--tag <tag>', 'only runs with this tag (repeatable)', collect)
      .option('--schedule <scheduleId>', 'only runs this schedule started')
      .option('--order-by <field>', 'startTime or endTime')
      .option('--order-dir <dir>', 'asc or desc')
      .option('--start-time <day>', 'only runs started on or after this day (2023-01-01, UTC unless an offset follows) or time')
      .option('--end-time <day>', 'only runs ended on or before this day (2023-12-31) or time')
      .option('--offset <n>', 'skip this many runs first (at most 10,000; then use --marker)')
      .option('--all', 'every page, not just the first'),
  ).action((options: ListOptions) =>
    runCliAction('runs list', io, setExit, async () => {
      const client = remoteClient(options);
      const query = listQuery(options);
      if (options.all) {
        const all = await client.listAllRuns(query);
        io.out(options.json ? `${JSON.stringify({ runs: all }, null, 2)}\n` : runTable(all));
        return;
      }
      const page = await client.listRuns(query);
      if (options.json) return io.out(`${JSON.stringify(page, null, 2)}\n`);
      io.out(runTable(page.runs));
      if (page.total !== undefined) io.out(`${page.totalIsEstimate ? 'about ' : ''}${page.total} run${page.total === 1 ? '' : 's'} in all\n`);
      if (page.hasNextPage && page.marker) io.out(`(more: --marker ${page.marker})\n`);
    }),
  );

  withRemoteOptions(
    runs
      .command('start')
      .description('start a run of a deployed flow; prints the run (with --wait, once it ended: exit 0 when it succeeded)')
      .argument('<flowId>')
      .option('-i, --input <json>', 'the action input, as JSON', '{}')
      .option('-a, --action <name>', 'the action to run')
      .option('-l, --label <label>', 'a label for the run')
      .option('--tag <tag>', 'a tag for the run (repeatable)', collect)
      .option('--wait', 'wait until the run ends'),
  ).action((flowId: string, options: RemoteOptions & { input: string; action?: string; label?: string; tag?: string[]; wait?: boolean }) =>
    runCliAction('runs start', io, setExit, async () => {
      const run = await remoteClient(options).runFlow({
        flowId,
        input: parseJsonOption(options.input, '--input'),
        ...(options.action ? { action: options.action } : {}),
        ...(options.label ? { label: options.label } : {}),
        ...(options.tag?.length ? { tags: options.tag } : {}),
        ...(options.wait ? { wait: true } : {}),
      });
      io.out(options.json ? `${JSON.stringify({ run }, null, 2)}\n` : describeRun(run));
      return options.wait && run.status !== 'SUCCEEDED' ? 1 : 0;
    }),
  );

  withRemoteOptions(runs.command('get').description('show a run').argument('<runId>')).action((runId: string, options: RemoteOptions) =>
    runCliAction('runs get', io, setExit, async () => {
      const run = await remoteClient(options).getRun(runId);
      io.out(options.json ? `${JSON.stringify({ run }, null, 2)}\n` : describeRun(run));
    }),
  );

  withRemoteOptions(
    runs
      .command('update')
      .description("change a run's label and/or tags (owners and managers)")
      .argument('<runId>')
      .option('-l, --label <label>', 'the new label ("" removes it)')
      .option('--tags <tags>', 'the new tags, comma-separated ("" removes them all)'),
  ).action((runId: string, options: RemoteOptions & { label?: string; tags?: string }) =>
    runCliAction('runs update', io, setExit, async () => {
      if (options.label === undefined && options.tags === undefined) throw new UsageError('say what to change: --label and/or --tags');
      const changes = {
        ...(options.label !== undefined ? { label: options.label === '' ? null : options.label } : {}),
        ...(options.tags !== undefined ? { tags: options.tags.split(',').map((t) => t.trim()).filter((t) => t !== '') } : {}),
      };
      const run = await remoteClient(options).updateRun(runId, changes);
      io.out(options.json ? `${JSON.stringify({ run }, null, 2)}\n` : describeRun(run));
    }),
  );

  withRemoteOptions(
    runs
      .command('cancel')
      .description('cancel a run and its synchronous children (--tree: and every run it started, launches included)')
      .argument('<runId>')
      .option('--tree', 'also cancel every run it launched, and theirs; a root run\'s tree starts no run any more'),
  ).action((runId: string, options: RemoteOptions & { tree?: boolean }) =>
    runCliAction('runs cancel', io, setExit, async () => {
      const run = await remoteClient(options).cancelRun(runId, { tree: options.tree === true });
      io.out(options.json ? `${JSON.stringify({ run }, null, 2)}\n` : `run ${run.runId} is ${run.status}\n`);
    }),
  );

  withRemoteOptions(
    runs
      .command('logs')
      .description("print a run's log entries, oldest first (all of them unless --limit)")
      .argument('<runId>')
      .option('-n, --limit <n>', 'at most this many entries')
      .option('--offset <n>', 'skip this many entries first', '0'),
  ).action((runId: string, options: RemoteOptions & { limit?: string; offset?: string }) =>
    runCliAction('runs logs', io, setExit, async () => {
      const client = remoteClient(options);
      const limit = parseCount(options.limit, '--limit');
      const offset = parseCount(options.offset, '--offset', 0) ?? 0;
      const entries = limit === undefined && offset === 0 ? await client.listAllRunLogs(runId) : (await client.getRunLogs(runId, { offset, ...(limit ? { limit } : {}) })).entries;
      if (options.json) return io.out(`${JSON.stringify({ entries }, null, 2)}\n`);
      for (const e of entries) io.out(`${humanTime(e.time)}  ${printable(e.code)}  ${printable(humanTimesIn(e.description))}\n`);
    }),
  );

  withRemoteOptions(
    runs
      .command('watch')
      .description('follow a run live until it ends; exit 0 when it succeeded, 1 otherwise')
      .argument('<runId>')
      .option('--after-seq <n>', 'start after this event (the last one seen)'),
  ).action((runId: string, options: RemoteOptions & { afterSeq?: string }) =>
    runCliAction('runs watch', io, setExit, async () => {
      const client = remoteClient(options);
      const afterSeq = parseCount(options.afterSeq, '--after-seq', 0);
      const names = new Map<string, string>();
      let status: RunStatus | undefined;
      for await (const event of client.watchRun(runId, afterSeq === undefined ? {} : { afterSeq })) {
        if (event.kind === 'status') status = event.status;
        io.out(options.json ? `${JSON.stringify(event)}\n` : formatRunEvent(event, names));
      }
      if (status === undefined) status = (await client.getRun(runId)).status;
      return status === 'SUCCEEDED' ? 0 : 1;
    }),
  );

  registerRunsBatchCommands(runs, io, setExit);
}

function listQuery(options: ListOptions): ListRunsOptions {
  const orderBy = options.orderBy;
  if (orderBy !== undefined && !['startTime', 'endTime', 'start_time', 'end_time'].includes(orderBy)) throw new UsageError(`--order-by must be startTime or endTime, got "${orderBy}"`);
  const orderDir = options.orderDir;
  if (orderDir !== undefined && orderDir !== 'asc' && orderDir !== 'desc') throw new UsageError(`--order-dir must be asc or desc, got "${orderDir}"`);
  return {
    ...(options.limit !== undefined ? { limit: parseCount(options.limit, '--limit')! } : {}),
    ...(options.marker ? { marker: options.marker } : {}),
    ...(options.flow ? { flowId: options.flow } : {}),
    ...(options.status ? { status: options.status.split(',').map((s) => s.trim().toUpperCase()) as RunStatus[] } : {}),
    ...(options.label ? { label: options.label } : {}),
    ...(options.tag?.length ? { tags: options.tag } : {}),
    ...(options.schedule ? { scheduleId: options.schedule } : {}),
    ...(orderBy ? { orderBy: orderBy as NonNullable<ListRunsOptions['orderBy']> } : {}),
    ...(options.startTime ? { startTime: options.startTime } : {}),
    ...(options.endTime ? { endTime: options.endTime } : {}),
    ...(options.offset !== undefined ? { offset: parseCount(options.offset, '--offset', 0)! } : {}),
    ...(orderDir ? { orderDir } : {}),
  };
}

function runTable(runs: Run[]): string {
  if (runs.length === 0) return '(no runs)\n';
  return table(
    ['RUN', 'FLOW', 'STATUS', 'STARTED', 'LABEL'],
    runs.map((r) => [printable(r.runId), `${printable(r.flowId)}@${r.flowVersion}`, r.status, humanTime(r.startTime), printable(r.label ?? '')]),
  );
}

function describeRun(run: Run): string {
  const lines: [string, string][] = [
    ['run', printable(run.runId)],
    ['flow', `${printable(run.flowId)} version ${run.flowVersion}, action ${printable(run.actionName)}${run.flowTitle ? ` (${printable(run.flowTitle)})` : ''}`],
    ['status', run.status],
    ['label', printable(run.label ?? '-')],
    ['tags', run.tags.length ? run.tags.map(printable).join(', ') : '-'],
    ['started', humanTime(run.startTime)],
    ['ended', humanTime(run.endTime)],
    ['created by', printable((run.createdByString && run.createdByString !== run.createdBy ? `${run.createdByString} (${run.createdBy})` : run.createdBy) + (run.runAs ? ` (as ${run.runAs})` : ''))],
    ['source', printable(run.source)],
  ];
  if (run.parentRunId) lines.push(['parent', printable(run.parentRunId)]);
  if (run.runError) lines.push(['error', `${printable(run.runError.code)}: ${printable(run.runError.description)}`]);
  // JSON.stringify writes control characters as \u escapes already.
  if (run.output !== null && run.output !== undefined) lines.push(['output', JSON.stringify(run.output, null, 2)]);
  return lines.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`).join('\n') + '\n';
}
