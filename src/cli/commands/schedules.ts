/**
 * `flowrun schedules create|list|get|update|pause|resume|trigger|backfill|delete`: schedules on a
 * flowrun server, through the client. Text for people by default (next fire times, recent runs
 * with outcomes, skipped slots with why), `--json` for scripts.
 */
import type { Command } from 'commander';
import type { CreateScheduleOptions, Schedule, ScheduleChanges, ScheduleOutcome } from '../../client/index.js';
import type { CliIo } from '../cli-io.js';
import { printable } from '../printable.js';
import { humanTime, parseCount, parseJsonOption, remoteClient, runCliAction, table, withRemoteOptions, type RemoteOptions } from '../remote-client.js';

interface FieldOptions extends RemoteOptions {
  action?: string;
  cron?: string;
  timezone?: string;
  every?: string;
  offset?: string;
  startAt?: string;
  endAt?: string;
  jitterMs?: string;
  maxRuns?: string;
  input?: string;
  runAs?: string;
  overlap?: string;
  catchupWindowMs?: string;
  pauseAfterFailures?: string;
}

/** The spec and policy options shared by `create` and `update`. */
function withFieldOptions(command: Command): Command {
  return command
    .option('--cron <expression>', 'a cron expression of 5 or 6 fields, e.g. "30 2 * * *"')
    .option('--timezone <zone>', 'the IANA time zone the cron expression is read in (default UTC)')
    .option('--every <duration>', 'an interval instead of cron: 15m, 1h30m, 10s')
    .option('--offset <duration>', 'shift the interval from the epoch, e.g. 5m')
    .option('--action <name>', 'the action to start (default main)')
    .option('--input <json>', 'the input of every run, as JSON')
    .option('--run-as <serviceAccount>', 'start the runs as this service account')
    .option('--overlap <policy>', 'skip, bufferOne, bufferAll, cancelOther or allowAll (default skip)')
    .option('--catchup-window-ms <ms>', 'fire slots missed while no engine ran if younger than this (default 600000)')
    .option('--pause-after-failures <n>', 'pause after this many failed runs in a row')
    .option('--start-at <time>', 'no slot before this time (ISO 8601 or ms)')
    .option('--end-at <time>', 'no slot after this time')
    .option('--jitter-ms <ms>', 'delay each slot by up to this much')
    .option('--max-runs <n>', 'stop after this many runs');
}

function fieldsOf(options: FieldOptions): ScheduleChanges {
  const time = (text: string | undefined) => (text === undefined ? undefined : /^\d+$/.test(text) ? Number(text) : text);
  const int = (text: string | undefined, option: string, min = 0) => parseCount(text, option, min);
  const input = parseJsonOption(options.input, '--input');
  const fields: Record<string, unknown> = {
    cron: options.cron,
    timezone: options.timezone,
    every: options.every,
    offset: options.offset,
    actionName: options.action,
    input,
    runAs: options.runAs,
    overlap: options.overlap,
    catchupWindowMs: int(options.catchupWindowMs, '--catchup-window-ms'),
    pauseAfterFailures: int(options.pauseAfterFailures, '--pause-after-failures', 1),
    startAt: time(options.startAt),
    endAt: time(options.endAt),
    jitterMs: int(options.jitterMs, '--jitter-ms'),
    maxRuns: int(options.maxRuns, '--max-runs', 1),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as ScheduleChanges;
}

/** A schedule for people: spec, state, next fire times, recent runs, skipped slots. */
export function describeSchedule(s: Schedule): string {
  const spec = 'cron' in s.spec ? `cron "${printable(s.spec.cron)}" in ${printable(s.spec.timezone ?? 'UTC')}` : `every ${printable(s.spec.every)}${s.spec.offset ? ` offset ${printable(s.spec.offset)}` : ''}`;
  const lines = [
    `${printable(s.scheduleId)}: ${printable(s.flowId)} ${printable(s.actionName)}, ${spec}, overlap ${s.overlap}`,
    `  ${s.paused ? `paused${s.note ? `: ${printable(s.note)}` : ''}` : s.state.completed ? 'completed' : 'active'}; ${s.state.runCount} run(s); owner ${printable(s.owner || '(in-process)')}${s.runAs ? ` as ${printable(s.runAs)}` : ''}${s.origin === 'definition' ? `; declared by v${s.definitionVersion}` : ''}`,
    `  next: ${s.nextFireTimes.length ? s.nextFireTimes.map(humanTime).join(', ') : '-'}`,
  ];
  const outcome = (o: ScheduleOutcome) => `    ${humanTime(o.slot)}  ${o.status}${o.runId ? `  ${printable(o.runId)}` : ''}${o.count ? `  ${o.count} slot(s)` : ''}${o.kind ? `  (${o.kind})` : ''}${o.reason ? `  ${printable(o.reason)}` : ''}`;
  if (s.state.recent.length) lines.push('  recent runs:', ...s.state.recent.slice(-10).map(outcome));
  if (s.state.skipped.length) lines.push('  skipped:', ...s.state.skipped.slice(-10).map(outcome));
  return `${lines.join('\n')}\n`;
}

/** Adds `schedules` and its subcommands to the program. */
export function registerSchedulesCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const schedules = program.command('schedules').description('create, list, pause, trigger and backfill schedules on a flowrun server');
  const show = (options: RemoteOptions, schedule: Schedule, extra?: ScheduleOutcome[]) => {
    if (options.json) return io.out(`${JSON.stringify(extra ? { schedule, outcomes: extra } : { schedule }, null, 2)}\n`);
    io.out(describeSchedule(schedule));
    if (extra) io.out(extra.length ? `${extra.map((o) => `${humanTime(o.slot)}  ${o.status}${o.runId ? `  ${printable(o.runId)}` : ''}${o.reason ? `  ${printable(o.reason)}` : ''}`).join('\n')}\n` : 'nothing fired\n');
  };

  withRemoteOptions(withFieldOptions(schedules.command('create').description('create a schedule of a flow: its runs start as you (or --run-as)').argument('<flowId>').option('--id <scheduleId>', 'the schedule id (default: a new id)').option('--paused', 'create it paused').option('--note <text>', 'why it is paused'))).action(
    (flowId: string, options: FieldOptions & { id?: string; paused?: boolean; note?: string }) =>
      runCliAction('schedules create', io, setExit, async () => {
        const body: CreateScheduleOptions = { flowId, ...fieldsOf(options), ...(options.id ? { scheduleId: options.id } : {}), ...(options.paused ? { paused: true } : {}), ...(options.note ? { note: options.note } : {}) };
        show(options, await remoteClient(options).createSchedule(body));
      }),
  );
  withRemoteOptions(schedules.command('list').description('list the schedules you may manage').option('--flow <flowId>', 'only schedules of this flow').option('--after <scheduleId>', 'the page after this id').option('-n, --limit <n>', 'schedules per page', '50')).action(
    (options: RemoteOptions & { flow?: string; after?: string; limit?: string }) =>
      runCliAction('schedules list', io, setExit, async () => {
        const page = await remoteClient(options).listSchedules({ ...(options.flow ? { flowId: options.flow } : {}), ...(options.after ? { after: options.after } : {}), limit: parseCount(options.limit, '--limit') ?? 50 });
        if (options.json) return io.out(`${JSON.stringify(page, null, 2)}\n`);
        const rows = page.schedules.map((s) => [printable(s.scheduleId), printable(s.flowId), 'cron' in s.spec ? printable(s.spec.cron) : `every ${printable(s.spec.every)}`, s.paused ? 'paused' : 'active', humanTime(s.nextFireTimes[0]), String(s.state.runCount)]);
        io.out(table(['ID', 'FLOW', 'SPEC', 'STATE', 'NEXT', 'RUNS'], rows));
        if (page.next) io.out(`next page: --after ${printable(page.next)}\n`);
      }),
  );
  withRemoteOptions(schedules.command('get').description('a schedule: next fire times, recent runs, skipped slots').argument('<scheduleId>').option('--next <n>', 'how many next fire times', '5')).action((id: string, options: RemoteOptions & { next?: string }) =>
    runCliAction('schedules get', io, setExit, async () => show(options, await remoteClient(options).getSchedule(id, { next: parseCount(options.next, '--next', 0) ?? 5 }))),
  );
  withRemoteOptions(withFieldOptions(schedules.command('update').description('change a schedule (what is not given stays)').argument('<scheduleId>'))).action((id: string, options: FieldOptions) =>
    runCliAction('schedules update', io, setExit, async () => show(options, await remoteClient(options).updateSchedule(id, fieldsOf(options)))),
  );
  withRemoteOptions(schedules.command('pause').description('pause a schedule').argument('<scheduleId>').option('--note <text>', 'why')).action((id: string, options: RemoteOptions & { note?: string }) =>
    runCliAction('schedules pause', io, setExit, async () => show(options, await remoteClient(options).pauseSchedule(id, options.note ? { note: options.note } : {}))),
  );
  withRemoteOptions(schedules.command('resume').description('resume a paused schedule from now').argument('<scheduleId>')).action((id: string, options: RemoteOptions) =>
    runCliAction('schedules resume', io, setExit, async () => show(options, await remoteClient(options).resumeSchedule(id))),
  );
  withRemoteOptions(schedules.command('trigger').description('start a run now, through the overlap policy').argument('<scheduleId>')).action((id: string, options: RemoteOptions) =>
    runCliAction('schedules trigger', io, setExit, async () => {
      const fired = await remoteClient(options).triggerSchedule(id);
      show(options, fired.schedule, fired.outcomes);
    }),
  );
  withRemoteOptions(schedules.command('backfill').description('fire the slots of a time range, through the overlap policy').argument('<scheduleId>').requiredOption('--from <time>', 'first time (ISO 8601 or ms)').requiredOption('--to <time>', 'last time')).action(
    (id: string, options: RemoteOptions & { from: string; to: string }) =>
      runCliAction('schedules backfill', io, setExit, async () => {
        const time = (t: string) => (/^\d+$/.test(t) ? Number(t) : t);
        const fired = await remoteClient(options).backfillSchedule(id, { from: time(options.from), to: time(options.to) });
        show(options, fired.schedule, fired.outcomes);
      }),
  );
  withRemoteOptions(schedules.command('delete').description('delete a schedule (its runs stay)').argument('<scheduleId>')).action((id: string, options: RemoteOptions) =>
    runCliAction('schedules delete', io, setExit, async () => {
      await remoteClient(options).deleteSchedule(id);
      io.out(options.json ? `${JSON.stringify({ deleted: id })}\n` : `deleted ${printable(id)}\n`);
    }),
  );
}
