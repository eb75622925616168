/**
 * The CLI end to end: `flowrun serve` in a child process over a SQLite folder, tokens and
 * principals written into the same folder by other `flowrun` processes, and the remote commands
 * (`runs`, `flows`, `events`) talking to the server with those tokens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFlowrunCli } from '../support/run-cli.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'flowrun-serve-e2e-'));
const storeDir = join(dir, 'store');
const flowsDir = join(dir, 'flows');
const store = `sqlite:${storeDir}`;

let server: ChildProcess;
let serverOut = '';
let url = '';
let adminToken = '';

/** `flowrun ARGS` against the server, with `token`; FLOWRUN_* come from the test, not the machine. */
function cli(args: string[], options: { token?: string; env?: Record<string, string> } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FLOWRUN_SERVER;
  delete env.FLOWRUN_TOKEN;
  Object.assign(env, options.env);
  const remote = options.token !== undefined ? ['--server', url, '--token', options.token] : [];
  return runFlowrunCli([...args, ...remote], { env });
}

beforeAll(async () => {
  mkdirSync(flowsDir);
  writeFileSync(
    join(flowsDir, 'echo.json'),
    JSON.stringify({ id: 'cli/echo', title: 'Echo', actions: { main: { params: { n: { type: 'number' } }, startAt: 'echo', steps: { echo: { stepType: 'COMPUTE', expression: '{n: input.n}' } } } } }),
  );
  writeFileSync(
    join(flowsDir, 'listener.json'),
    JSON.stringify({ id: 'cli/listener', actions: { main: { startAt: 'note', steps: { note: { stepType: 'COMPUTE', expression: '{heard: event.a}' } } } }, subscriptions: [{ on: 'cli.ping', run: 'main' }] }),
  );
  writeFileSync(join(flowsDir, 'notes.json'), JSON.stringify({ not: 'a flow' }));
  server = spawn(process.execPath, ['--import', 'tsx', 'test/support/flowrun-cli.ts', 'serve', '--store', store, '--port', '0', '--flows', flowsDir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.setEncoding('utf8').on('data', (chunk: string) => (serverOut += chunk));
  server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (serverOut += chunk));
  const deadline = Date.now() + 30_000;
  while (!/admin token \(shown once\): (frt_\S+)/.test(serverOut)) {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`flowrun serve did not start:\n${serverOut}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  url = /flowrun is serving (http:\/\/\S+)/.exec(serverOut)![1]!;
  adminToken = /admin token \(shown once\): (frt_\S+)/.exec(serverOut)![1]!;
}, 40_000);

/** Runs a support script in a child process and resolves with what it printed. */
function runProcess(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', fail);
    child.on('exit', () => done(out));
  });
}

afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGKILL');
  }
});

describe('flowrun CLI against flowrun serve', () => {
  it('serves on 127.0.0.1, deployed the flows folder as admin and skipped what is not a flow', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(serverOut).toContain('deployed cli/echo version 1');
    expect(serverOut).toContain('not a flow definition');
  });

  it('creates a token with `tokens create`, then lists runs with it (--json), seeing only its own', async () => {
    const created = await cli(['tokens', 'create', '--user', 'alice', '--description', 'e2e', '--json', '--store', store]);
    expect(created.code, created.stderr).toBe(0);
    const alice = JSON.parse(created.stdout) as { token: string; tokenId: string; principalId: string; createdPrincipal: boolean };
    expect(alice).toMatchObject({ principalId: 'alice', createdPrincipal: true });
    expect(alice.token).toMatch(/^frt_[A-Za-z0-9_-]{43}$/);
    expect(created.stdout).not.toContain('tokenHash');

    const empty = await cli(['runs', 'list', '--json'], { token: alice.token });
    expect(empty.code, empty.stderr).toBe(0);
    expect(JSON.parse(empty.stdout)).toMatchObject({ runs: [], hasNextPage: false });

    const started = await cli(['runs', 'start', 'cli/echo', '--input', '{"n":5}', '--label', 'from-cli', '--wait', '--json'], { token: alice.token });
    expect(started.code, started.stderr).toBe(0);
    const run = (JSON.parse(started.stdout) as { run: { runId: string; status: string; output: unknown } }).run;
    expect(run).toMatchObject({ status: 'SUCCEEDED', output: { n: 5 } });

    // FLOWRUN_SERVER and FLOWRUN_TOKEN stand in for --server and --token.
    const listed = await cli(['runs', 'list', '--json'], { env: { FLOWRUN_SERVER: url, FLOWRUN_TOKEN: alice.token } });
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { runs: { runId: string; label: string }[] }).runs).toMatchObject([{ runId: run.runId, label: 'from-cli' }]);

    const text = await cli(['runs', 'list'], { token: alice.token });
    expect(text.stdout).toMatch(/RUN\s+FLOW\s+STATUS/);
    expect(text.stdout).toContain('cli/echo@1');

    const bobToken = JSON.parse((await cli(['tokens', 'create', '--user', 'bob', '--json', '--store', store])).stdout).token as string;
    expect(JSON.parse((await cli(['runs', 'list', '--json'], { token: bobToken })).stdout).runs).toEqual([]);
    const hidden = await cli(['runs', 'get', run.runId], { token: bobToken });
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toContain('RUN_NOT_FOUND');

    const got = await cli(['runs', 'get', run.runId], { token: alice.token });
    expect(got.stdout).toMatch(/status:\s+SUCCEEDED/);
    const logs = await cli(['runs', 'logs', run.runId], { token: alice.token });
    expect(logs.stdout).toContain('FlowSucceeded');
    const watched = await cli(['runs', 'watch', run.runId], { token: alice.token });
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain('SUCCEEDED');
  }, 60_000);

  it('deploys, publishes and lists flows and publishes events with the admin token', async () => {
    const file = join(dir, 'hello.json');
    writeFileSync(file, JSON.stringify({ id: 'cli/hello', actions: { main: { startAt: 's', steps: { s: { stepType: 'COMPUTE', expression: '{hello: "world"}' } } } } }));
    const deployed = await cli(['flows', 'deploy', file], { token: adminToken });
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain('deployed cli/hello version 1');
    // A .flow file's text goes with its version, for the dashboard's flow page.
    const fromFlowFile = await cli(['flows', 'deploy', join(root, 'examples/countdown.flow')], { token: adminToken });
    expect(fromFlowFile.code, fromFlowFile.stderr).toBe(0);
    const countdown = (await (await fetch(`${url}/flows/countdown_loop?version=LATEST`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { flow: { source?: { fileName: string; text: string } } };
    expect(countdown.flow.source).toMatchObject({ fileName: 'countdown.flow', text: expect.stringContaining('goto flow(tick)') });
    const published = await cli(['flows', 'publish', 'cli/hello', '1', '--json'], { token: adminToken });
    expect(JSON.parse(published.stdout)).toEqual({ id: 'cli/hello', version: 1 });
    const flows = JSON.parse((await cli(['flows', 'list', '--json'], { token: adminToken })).stdout) as { flows: { flowId: string; publishedVersion: number | null }[] };
    expect(flows.flows.map((f) => [f.flowId, f.publishedVersion]).sort()).toEqual([
      ['cli/echo', 1],
      ['cli/hello', 1],
      ['cli/listener', 1],
      ['countdown_loop', null],
    ]);
    const event = await cli(['events', 'publish', 'nobody.listens', '--payload', '{"a":1}', '--json'], { token: adminToken });
    expect(event.code, event.stderr).toBe(0);
    expect(JSON.parse(event.stdout)).toMatchObject({ runIds: [] });
    // The flows folder is deployed by admin, whom serve lets subscribe to every event name.
    const ping = await cli(['events', 'publish', 'cli.ping', '--payload', '{"a":2}', '--json'], { token: adminToken });
    expect(ping.code, ping.stderr).toBe(0);
    const [runId] = (JSON.parse(ping.stdout) as { runIds: string[] }).runIds;
    expect(runId).toBeDefined();
    expect((await cli(['runs', 'watch', runId!], { token: adminToken })).code).toBe(0);
    const heard = await cli(['runs', 'get', runId!, '--json'], { token: adminToken });
    expect(JSON.parse(heard.stdout), heard.stderr).toMatchObject({ run: { status: 'SUCCEEDED', output: { heard: 2 }, createdBy: 'admin', triggeredBy: 'admin' } });
  }, 60_000);

  it('`events publish` reports the waiting runs it resumed and the subscribers it skipped, with why', async () => {
    const waiter = join(dir, 'paid-waiter.json');
    const needy = join(dir, 'needy.json');
    writeFileSync(waiter, JSON.stringify({ id: 'cli/paid-waiter', actions: { main: { startAt: 'w', steps: { w: { stepType: 'WAIT', event: 'cli.paid', defaultNextStepInstanceId: 'done' }, done: { stepType: 'COMPUTE', expression: '{paid: event.amount}' } } } } }));
    writeFileSync(needy, JSON.stringify({ id: 'cli/needy', actions: { main: { params: { orderId: { type: 'text', required: true } }, startAt: 'x', steps: { x: { stepType: 'COMPUTE', expression: '{id: input.orderId}' } } } }, subscriptions: [{ on: 'cli.paid', run: 'main' }] }));
    expect((await cli(['flows', 'deploy', waiter, needy, '--publish'], { token: adminToken })).code).toBe(0);
    const started = await cli(['runs', 'start', 'cli/paid-waiter', '--json'], { token: adminToken });
    const runId = (JSON.parse(started.stdout) as { run: { runId: string } }).run.runId;
    for (let i = 0; i < 200 && JSON.parse((await cli(['runs', 'get', runId, '--json'], { token: adminToken })).stdout).run.status !== 'INACTIVE'; i++);
    const published = await cli(['events', 'publish', 'cli.paid', '--payload', '{"amount":5}'], { token: adminToken });
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toContain(`resumed ${runId}`);
    expect(published.stdout).toMatch(/skipped cli\/needy v1 \(main\): INVALID_INPUT: .*orderId/);
    expect(published.stdout).not.toContain('no flow subscribes');
    expect((await cli(['runs', 'watch', runId], { token: adminToken })).code).toBe(0);
  }, 60_000);

  it('cancels a run tree with `runs cancel --tree`: the launched run stops too', async () => {
    const waiter = join(dir, 'waiter.json');
    const spawner = join(dir, 'spawner.json');
    writeFileSync(waiter, JSON.stringify({ id: 'cli/waiter', actions: { main: { startAt: 'w', steps: { w: { stepType: 'WAIT', event: 'cli.never' } } } } }));
    writeFileSync(spawner, JSON.stringify({ id: 'cli/spawner', actions: { main: { startAt: 'go', steps: { go: { stepType: 'RUN_FLOW', flowDefinitionId: 'cli/waiter', async: true } } } } }));
    expect((await cli(['flows', 'deploy', waiter, spawner, '--publish'], { token: adminToken })).code).toBe(0);
    const started = await cli(['runs', 'start', 'cli/spawner', '--wait', '--json'], { token: adminToken });
    expect(started.code, started.stderr).toBe(0);
    const root = (JSON.parse(started.stdout) as { run: { runId: string; output: { runId: string } } }).run;
    const launched = root.output.runId;
    const canceled = await cli(['runs', 'cancel', root.runId, '--tree', '--json'], { token: adminToken });
    expect(canceled.code, canceled.stderr).toBe(0);
    expect(JSON.parse((await cli(['runs', 'get', launched, '--json'], { token: adminToken })).stdout)).toMatchObject({ run: { status: 'CANCELED', treeId: root.runId } });
  }, 60_000);

  it('revokes a token: the server refuses it at once', async () => {
    const carol = JSON.parse((await cli(['tokens', 'create', '--user', 'carol', '--json', '--store', store])).stdout) as { token: string; tokenId: string };
    expect((await cli(['runs', 'list', '--json'], { token: carol.token })).code).toBe(0);
    const listed = JSON.parse((await cli(['tokens', 'list', '--user', 'carol', '--json', '--store', store])).stdout) as { tokens: { tokenId: string; state: string }[] };
    expect(listed.tokens).toMatchObject([{ tokenId: carol.tokenId, state: 'active' }]);
    expect((await cli(['tokens', 'revoke', carol.tokenId, '--store', store])).code).toBe(0);
    expect((await cli(['tokens', 'revoke', carol.tokenId, '--store', store])).code).toBe(1);
    const refused = await cli(['runs', 'list'], { token: carol.token });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('UNAUTHENTICATED');
  }, 60_000);

  it('manages principals: groups, members, service accounts and act-as grants', async () => {
    const steps = [
      ['principals', 'create', 'ops', '--kind', 'group'],
      ['principals', 'create', 'svc-reports', '--kind', 'service-account', '--display-name', 'Reports'],
      ['principals', 'create', 'dave'],
      ['principals', 'add-member', 'ops', 'dave'],
      ['principals', 'grant-act-as', 'svc-reports', 'ops'],
    ];
    for (const args of steps) {
      const r = await cli([...args, '--store', store]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    for (const args of [
      ['principals', 'grant-events', 'publish', 'dave', 'payment.confirmed'],
      ['principals', 'grant-events', 'subscribe', 'ops', 'reports.*'],
    ]) {
      const r = await cli([...args, '--store', store]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const shown = JSON.parse((await cli(['principals', 'show', 'dave', '--json', '--store', store])).stdout);
    expect(shown).toMatchObject({ id: 'dave', kind: 'user', groups: ['ops'], actAs: ['svc-reports'], publishes: ['payment.confirmed'], subscribes: [] });
    expect(JSON.parse((await cli(['principals', 'event-grants', '--principal', 'ops', '--json', '--store', store])).stdout)).toEqual({ grants: [{ principalId: 'ops', right: 'subscribe', pattern: 'reports.*' }] });
    expect(JSON.parse((await cli(['principals', 'revoke-events', 'subscribe', 'ops', 'reports.*', '--json', '--store', store])).stdout)).toEqual({ revoked: true });
    const badRight = await cli(['principals', 'grant-events', 'read', 'dave', 'x', '--store', store]);
    expect(badRight.code).toBe(2);
    const badPattern = await cli(['principals', 'grant-events', 'publish', 'dave', 'a.*.b', '--store', store]);
    expect(badPattern.code).toBe(1);
    expect(badPattern.stderr).toContain('INVALID_INPUT');
    expect(JSON.parse((await cli(['principals', 'members', 'ops', '--json', '--store', store])).stdout)).toEqual({ members: ['dave'] });
    const services = JSON.parse((await cli(['principals', 'list', '--kind', 'service-account', '--json', '--store', store])).stdout) as { principals: { id: string }[] };
    expect(services.principals.map((p) => p.id)).toEqual(['svc-reports']);
    const bot = await cli(['tokens', 'create', '--user', 'svc-bot', '--service-account', '--json', '--store', store]);
    expect(JSON.parse(bot.stdout)).toMatchObject({ principalId: 'svc-bot', principalKind: 'serviceAccount', createdPrincipal: true });
    const notService = await cli(['tokens', 'create', '--user', 'dave', '--service-account', '--store', store]);
    expect(notService.code).toBe(2);
    expect(notService.stderr).toContain('is a user, not a service account');
    const wrong = await cli(['principals', 'add-member', 'dave', 'ops', '--store', store]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('INVALID_INPUT');
  }, 60_000);

  it("lets serve's admin see and manage runs a job started for someone else; grant-admin makes another administrator", async () => {
    // Seed 002: a job in another process starts a run with runAction over the same folder.
    const requestId = crypto.randomUUID();
    const job = await runProcess(['test/support/start-run-process.ts', requestId, '1'], { FLOWRUN_STORE: store });
    expect(job.trim()).toBe('SUCCEEDED');
    const listed = JSON.parse((await cli(['runs', 'list', '--flow', 'watch/producer', '--json'], { token: adminToken })).stdout) as { runs: { runId: string; createdBy: string }[]; total: number };
    expect(listed).toMatchObject({ runs: [{ runId: requestId, createdBy: 'job' }], total: 1 });
    const erin = JSON.parse((await cli(['tokens', 'create', '--user', 'erin', '--json', '--store', store])).stdout).token as string;
    expect((await cli(['runs', 'get', requestId], { token: erin })).stderr).toContain('RUN_NOT_FOUND');
    const granted = await cli(['principals', 'grant-admin', 'erin', '--store', store]);
    expect(granted.code, granted.stderr).toBe(0);
    expect(JSON.parse((await cli(['principals', 'show', 'erin', '--json', '--store', store])).stdout)).toMatchObject({ id: 'erin', isAdministrator: true });
    const updated = await cli(['runs', 'update', requestId, '--label', 'seen by erin', '--tags', 'audit,ops', '--json'], { token: erin });
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ run: { runId: requestId, label: 'seen by erin', tags: ['audit', 'ops'] } });
    expect((await cli(['principals', 'revoke-admin', 'erin', '--store', store])).code).toBe(0);
    expect((await cli(['runs', 'get', requestId], { token: erin })).stderr).toContain('RUN_NOT_FOUND');
  }, 60_000);

  it('lists by day and offset, and starts, reads and cancels runs in batches from files (seed 003)', async () => {
    const starts = join(dir, 'starts.jsonl');
    writeFileSync(starts, [1, 2, 3].map((n) => JSON.stringify({ flowId: 'cli/echo', input: { n }, label: `Batch Job ${n}` })).join('\n') + '\n');
    const started = await cli(['runs', 'batch-start', '--file', starts, '--concurrency', '3', '--json'], { token: adminToken });
    expect(started.code, started.stderr).toBe(0);
    const ids = (JSON.parse(started.stdout) as { results: { run: { runId: string } }[] }).results.map((r) => r.run.runId);
    expect(ids).toHaveLength(3);
    const idFile = join(dir, 'ids.txt');
    writeFileSync(idFile, `# the batch\n${ids.join('\n')}\nno-such-run\n`);
    const got = await cli(['runs', 'batch-get', '--file', idFile], { token: adminToken });
    expect(got.code).toBe(1);
    expect(got.stdout).toContain('no-such-run  error: RUN_NOT_FOUND');
    for (const id of ids) expect(got.stdout).toContain(id);
    const canceled = await cli(['runs', 'batch-cancel', '--file', idFile, '--json'], { token: adminToken });
    expect(JSON.parse(canceled.stdout).results).toHaveLength(4);

    const page = await cli(['runs', 'list', '--flow', 'cli/echo', '--label', 'Batch Job', '--start-time', '2020-01-01', '--end-time', '2999-12-31', '--order-by', 'start_time', '--order-dir', 'asc', '--offset', '1', '--json'], { token: adminToken });
    expect(page.code, page.stderr).toBe(0);
    expect(JSON.parse(page.stdout)).toMatchObject({ total: 3 });
    expect(JSON.parse(page.stdout).runs).toHaveLength(2);
    const before = await cli(['runs', 'list', '--flow', 'cli/echo', '--end-time', '2000-01-01', '--json'], { token: adminToken });
    expect(JSON.parse(before.stdout)).toMatchObject({ runs: [], total: 0 });
  }, 60_000);

  it('stops gracefully on SIGTERM', async () => {
    const exited = new Promise<number | null>((done) => server.once('exit', (code) => done(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(serverOut).toContain('shutting down');
  }, 20_000);
});
