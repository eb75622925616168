/**
 * One or two examples under `--help` of every command, kept in one table so the commands' files
 * stay about what they do. A new command needs an entry: help-examples.test.ts fails without one.
 */
import type { Command } from 'commander';

/** Examples by command path (`runs start`); the command names are added by {@link addHelpExamples}. */
export const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': ['flowrun run examples/countdown.json --input \'{"from":3}\'', 'flowrun serve --flows examples --assume'],
  run: ['run examples/order-intake.flow --assume --input \'{"order_id":"o-1","amount":12}\'', 'run examples/countdown.json --input \'{"from":3}\' --quiet --store sqlite:.flowrun'],
  check: ['check examples/order-intake.flow', 'check flows/*.json --json'],
  translate: ['translate examples/report-generator.flow --to ja'],
  serve: ['serve --flows examples --assume', 'serve --store postgres://flowrun@db/flowrun --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem --no-worker', 'serve --flows examples --globus-port 8081'],
  worker: ['worker --store postgres://flowrun@db/flowrun --modules modules.js --concurrency 64', 'worker --store "$DATABASE_URL" --shutdown-timeout 30000 --retention-days 30 --metrics-port 9464'],
  schedules: ['schedules create reports/daily --cron "30 2 * * *" --timezone Europe/Paris', 'schedules list --flow reports/daily'],
  'schedules create': ['schedules create reports/daily --cron "30 2 * * *" --timezone Europe/Paris --input \'{"kind":"summary"}\'', 'schedules create sync/inbox --every 15m --overlap bufferOne --run-as svc-sync'],
  'schedules list': ['schedules list --flow reports/daily --json'],
  'schedules get': ['schedules get SCHEDULE_ID --next 10'],
  'schedules update': ['schedules update SCHEDULE_ID --cron "0 3 * * MON-FRI"'],
  'schedules pause': ['schedules pause SCHEDULE_ID --note "maintenance until Monday"'],
  'schedules resume': ['schedules resume SCHEDULE_ID'],
  'schedules trigger': ['schedules trigger SCHEDULE_ID'],
  'schedules backfill': ['schedules backfill SCHEDULE_ID --from 2026-12-01T00:00:00Z --to 2026-12-03T00:00:00Z'],
  'schedules delete': ['schedules delete SCHEDULE_ID'],
  runs: ['runs list --status FAILED', 'runs watch RUN_ID'],
  'runs list': ['runs list --flow order-intake --status FAILED,CANCELED --limit 50', 'runs list --tag nightly --all --json'],
  'runs start': ['runs start order-intake --wait --input \'{"orderId":"o-1","customer":"ada","lines":[{"sku":"tea","qty":2,"price":4.5}]}\''],
  'runs get': ['runs get RUN_ID --json'],
  'runs update': ['runs update RUN_ID --label "retry of o-1" --tags retry,manual'],
  'runs cancel': ['runs cancel RUN_ID --tree'],
  'runs logs': ['runs logs RUN_ID --limit 20'],
  'runs watch': ['runs watch RUN_ID', 'runs watch RUN_ID --after-seq 12 --json'],
  'runs batch-start': ['runs batch-start --file starts.jsonl --concurrency 4'],
  'runs batch-get': ['runs batch-get --file run-ids.txt'],
  'runs batch-cancel': ['flowrun runs list --status ACTIVE --json | jq -r \'.runs[].runId\' | flowrun runs batch-cancel --file -'],
  flows: ['flows deploy examples/order-intake.flow --publish', 'flows list'],
  'flows deploy': ['flows deploy examples/*.flow --publish'],
  'flows publish': ['flows publish order-intake 3'],
  'flows list': ['flows list --json'],
  events: ['events publish order.created --payload \'{"order_id":"o-1"}\''],
  'events publish': ['events publish order.created --payload \'{"order_id":"o-1"}\' --event-id order-o-1'],
  tokens: ['tokens create --user ada --description "ada\'s laptop"', 'tokens list'],
  'tokens create': ['tokens create --user ada --expires-in-days 30 > ada.token', 'tokens create --user svc-reports --service-account --store postgres://flowrun@db/flowrun'],
  'tokens list': ['tokens list --user ada'],
  'tokens revoke': ['tokens revoke TOKEN_ID'],
  principals: ['principals create reviewers --kind group', 'principals add-member reviewers ada'],
  'principals list': ['principals list --json'],
  'principals show': ['principals show ada'],
  'principals create': ['principals create ada --display-name "Ada Lovelace"', 'principals create svc-reports --kind service-account'],
  'principals delete': ['principals delete ada'],
  'principals add-member': ['principals add-member reviewers ada'],
  'principals remove-member': ['principals remove-member reviewers ada'],
  'principals members': ['principals members reviewers'],
  'principals grant-act-as': ['principals grant-act-as svc-reports ada'],
  'principals revoke-act-as': ['principals revoke-act-as svc-reports ada'],
  'principals grant-events': ['principals grant-events publish ada "order.*"'],
  'principals revoke-events': ['principals revoke-events publish ada "order.*"'],
  'principals event-grants': ['principals event-grants --principal ada'],
  'principals grant-admin': ['principals grant-admin ada'],
  'principals revoke-admin': ['principals revoke-admin ada'],
  'principals set-display-name': ['principals set-display-name ada "Ada Lovelace"'],
  'principals act-as-grants': ['principals act-as-grants svc-reports'],
};

/** The path of a command below the program: `runs start`, or '' for the program itself. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every command under `program`, the program first. */
export function allCommands(program: Command): Command[] {
  return [program, ...program.commands.flatMap((c) => allCommands(c))];
}

/** Adds each command's examples to the end of its `--help`. */
export function addHelpExamples(program: Command): void {
  for (const command of allCommands(program)) {
    const examples = HELP_EXAMPLES[commandPath(command)];
    if (!examples) continue;
    const lines = examples.map((e) => `  $ ${e.startsWith('flowrun ') ? e : `flowrun ${e}`}`);
    command.addHelpText('after', `\n${examples.length > 1 ? 'Examples' : 'Example'}:\n${lines.join('\n')}\n`);
  }
}
