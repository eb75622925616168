/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * server on a port over a SQLite file: signing in by link and by form, the runs list with its
 * filters and live updates, a run page following a run from waiting to done, approving and
 * canceling, the flows page and its start form, a token that sees only its own runs, a lost
 * connection — and no console error on any page but those a test provokes on purpose.
 * With FLOWRUN_SCREENSHOTS=1 the same tests write the README's screenshots into docs/images/.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createClient, type FlowClient } from '../../src/client/index.js';
import { compileFlow } from '../../src/dsl/compile-flow.js';
import { browserSkipNote, buildDashboard, launchChromium, openPage, screenshot, startDashboardServer, type DashboardServer } from '../support/dashboard-browser.js';

const skipNote = browserSkipNote();
if (skipNote) console.warn(skipNote);

let built: string | undefined;
let server: DashboardServer;
let browser: Browser;
let admin: FlowClient;
let ada: FlowClient;
const open: { context: BrowserContext; problems: string[]; expected: RegExp[] }[] = [];

beforeAll(async () => {
  if (skipNote) return;
  built = await buildDashboard();
  server = await startDashboardServer(built);
  browser = await launchChromium();
  admin = createClient({ baseUrl: server.url, token: server.adminToken });
  ada = createClient({ baseUrl: server.url, token: server.adaToken });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (built) rmSync(built, { recursive: true, force: true });
});

afterEach(async () => {
  for (const { context, problems, expected } of open.splice(0)) {
    await context.close();
    expect(problems.filter((p) => !expected.some((e) => e.test(p)))).toEqual([]);
  }
});

/** A fresh tab; `expected` lists console errors the test provokes (a refused token's 401). */
async function tab(options: { token?: string; expected?: RegExp[] } = {}): Promise<Page> {
  const { context, page, problems } = await openPage(browser);
  open.push({ context, problems, expected: options.expected ?? [] });
  if (options.token) await page.goto(`${server.url}/ui/#token=${options.token}`);
  return page;
}

const row = (page: Page, runId: string) => page.locator(`tr[data-run-id="${runId}"]`);
const statusOf = (page: Page, runId: string) => row(page, runId).locator('[data-status]').getAttribute('data-status');

describe.skipIf(skipNote !== null)('the dashboard', () => {
  it('signs in by the link serve prints: the token leaves the address bar, stays for the tab, and sign-out forgets it', async () => {
    const page = await tab({ token: server.adminToken });
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    expect(page.url()).toBe(`${server.url}/ui/runs`);
    expect(await page.evaluate(() => sessionStorage.getItem('flowrun.token'))).toBe(server.adminToken);
    await page.reload();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('flowrun.token'))).toBeNull();
  });

  it('signs in by the form, and says so when the token is refused', async () => {
    const page = await tab({ expected: [/401/] });
    await page.goto(`${server.url}/`);
    await page.getByLabel('API token').fill('frt_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'UNAUTHENTICATED' }).waitFor();
    await screenshot(page, 'dashboard-sign-in');
    await page.getByLabel('API token').fill(server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
  });

  it('lists runs newest first with filters, and shows new runs and status changes without reloading', async () => {
    const first = await admin.runFlow({ flowId: 'demo/hold', label: 'filtered-one', tags: ['nightly'] });
    const second = await admin.runFlow({ flowId: 'demo/approval', input: { amount: 5000 }, label: 'too large', wait: true });
    const page = await tab({ token: server.adminToken });
    await row(page, second.runId).waitFor();
    const ids = await page.locator('tr[data-run-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')));
    expect(ids.indexOf(second.runId)).toBeLessThan(ids.indexOf(first.runId));
    expect(await statusOf(page, second.runId)).toBe('FAILED');

    await page.locator('input[name="status-ACTIVE"]').check();
    await page.waitForURL(/status=ACTIVE/);
    await row(page, second.runId).waitFor({ state: 'detached' });
    await page.getByLabel('label').fill('filtered');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/label=filtered/);
    await row(page, first.runId).waitFor();

    // Live: a run started elsewhere appears, and one canceled elsewhere changes — no reload.
    const third = await admin.runFlow({ flowId: 'demo/hold', label: 'filtered-two' });
    await row(page, third.runId).waitFor();
    await page.locator('input[name="status-ACTIVE"]').uncheck();
    await admin.cancelRun(first.runId);
    await expect.poll(() => statusOf(page, first.runId), { timeout: 15_000 }).toBe('CANCELED');
    await admin.cancelRun(third.runId);
  });

  it('folds child runs under their parent in the list, and lists them on the page of the parent', async () => {
    const parent = await admin.runFlow({ flowId: 'demo/parent', wait: true });
    const [child] = await admin.getRunChildren(parent.runId);
    const page = await tab({ token: server.adminToken });
    await row(page, parent.runId).waitFor();
    expect(await row(page, child!.runId).count()).toBe(0);
    await row(page, parent.runId).getByRole('button', { name: '▸ 1' }).click();
    await row(page, child!.runId).waitFor();
    await screenshot(page, 'dashboard-runs');
    // Only roots take rows of their own: the count and the rows leave children out.
    const roots = await admin.listRuns({ rootsOnly: true, limit: 1 });
    expect(await page.getByTestId('runs-count').textContent()).toBe(`${roots.total} top-level runs`);
    // A filter a child matches lists it flat, naming its parent.
    const filtered = await tab({ token: server.adminToken });
    await filtered.goto(`${server.url}/ui/runs?flow=demo%2Fon-order`);
    await row(filtered, child!.runId).locator(`[data-parent-run="${parent.runId}"]`).waitFor();
    await row(page, parent.runId).getByRole('link').first().click();
    await page.getByRole('tab', { name: 'Child runs' }).click();
    await page.locator(`[data-child-run="${child!.runId}"]`).getByRole('link', { name: child!.runId }).click();
    await expect.poll(() => page.locator('h1').textContent()).toContain('demo/on-order');
  });

  it('follows a run on its page from waiting to done, approving it with a comment', async () => {
    const run = await admin.runFlow({ flowId: 'demo/approval', input: { amount: 42, note: 'books' }, label: 'needs approval' });
    const page = await tab({ token: server.adminToken });
    await page.goto(`${server.url}/ui/runs/${run.runId}`);
    const charge = page.locator('[data-step="action:main/charge"]');
    await expect.poll(() => charge.getAttribute('data-state'), { timeout: 15_000 }).toBe('waiting');
    expect(await page.locator('[data-step="action:main/check"]').getAttribute('data-state')).toBe('done');
    await page.getByTestId('approval').waitFor();
    await screenshot(page, 'dashboard-run');
    await page.getByLabel('comment').fill('checked the invoice');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => charge.getAttribute('data-state'), { timeout: 15_000 }).toBe('done');
    await expect.poll(() => page.locator('h1 [data-status]').getAttribute('data-status'), { timeout: 15_000 }).toBe('SUCCEEDED');
    // The record (re-read on each status event) may say SUCCEEDED a moment before the stream's last event colours the graph.
    await expect.poll(() => page.locator('[data-step="action:main/refuse"]').getAttribute('data-state'), { timeout: 15_000 }).toBe('skipped');
    await page.getByRole('tab', { name: /Logs/ }).click();
    await page.locator('tr[data-code="StepApproved"]').waitFor();
    const ended = await admin.getRun(run.runId);
    expect(ended).toMatchObject({ status: 'SUCCEEDED', output: { charged: 42 } });
    const ledger = (await admin.getRunEvents(run.runId)).flatMap((e) => (e.kind === 'ledger' ? [e.entry] : []));
    expect(ledger.some((e) => e.kind === 'governance' && e.to.comment === 'checked the invoice')).toBe(true);
  });

  it('lists the approvals a token may decide, and approves one inline with a comment', async () => {
    const run = await admin.runFlow({ flowId: 'demo/approval', input: { amount: 9 }, label: 'approve from the list' });
    await expect.poll(async () => (await admin.getRun(run.runId)).suspension?.kind, { timeout: 15_000 }).toBe('approval');
    // ada may not manage the admin's run: her page lists nothing.
    const adaPage = await tab({ token: server.adaToken });
    await adaPage.getByRole('link', { name: 'Approvals' }).click();
    await adaPage.getByText('Nothing waits for a decision you may make.').waitFor();
    const page = await tab({ token: server.adminToken });
    await page.getByRole('link', { name: 'Approvals' }).click();
    const line = page.locator(`tr[data-approval-run="${run.runId}"]`);
    await line.waitFor();
    expect(await line.textContent()).toContain('a person checks every charge');
    expect(await line.locator('code').textContent()).toBe('charge');
    await screenshot(page, 'dashboard-approvals');
    await line.getByLabel(`comment for ${run.runId}`).fill('fine by me');
    await line.getByRole('button', { name: 'Approve' }).click();
    await line.waitFor({ state: 'detached' });
    await expect.poll(async () => (await admin.getRun(run.runId)).status, { timeout: 15_000 }).toBe('SUCCEEDED');
    const ledger = (await admin.getRunEvents(run.runId)).flatMap((e) => (e.kind === 'ledger' ? [e.entry] : []));
    expect(ledger.some((e) => e.kind === 'governance' && e.to.comment === 'fine by me')).toBe(true);
  });

  it('cancels a running run from its page after asking to confirm', async () => {
    const run = await admin.runFlow({ flowId: 'demo/hold', label: 'to cancel' });
    const page = await tab({ token: server.adminToken });
    await page.goto(`${server.url}/ui/runs/${run.runId}`);
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByRole('button', { name: 'Yes, cancel' }).click();
    await expect.poll(() => page.locator('h1 [data-status]').getAttribute('data-status'), { timeout: 15_000 }).toBe('CANCELED');
    expect((await admin.getRun(run.runId)).status).toBe('CANCELED');
  });

  it('lists flows, shows a flow, and starts a run from its form with mistakes shown on the field', async () => {
    const page = await tab({ token: server.adminToken, expected: [/400/] });
    await page.getByRole('link', { name: 'Flows' }).click();
    await page.locator('tr[data-flow-id="demo/approval"]').waitFor();
    await page.getByRole('link', { name: 'demo/approval' }).click();
    await page.getByTestId('flow-graph').locator('[data-step="action:main/charge"]').waitFor();
    await screenshot(page, 'dashboard-flow');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.locator('[data-field="amount"] .field-error').filter({ hasText: 'is required' }).waitFor();
    await page.locator('#param-amount').fill('a lot');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.locator('[data-field="amount"] .field-error').filter({ hasText: 'must be a number' }).waitFor();
    await page.locator('#param-amount').fill('12.5');
    // The server checks the param's JSON Schema: its refusal lands on the field too.
    await page.locator('#param-currency').fill('"GBP"');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.locator('[data-field="currency"] .field-error').waitFor();
    await page.locator('#param-currency').fill('"USD"');
    await page.locator('#run-label').fill('from the form');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/ui\/runs\/[0-9a-f-]{36}$/);
    const runId = decodeURIComponent(page.url().split('/').pop()!);
    await expect.poll(() => page.locator('h1 [data-status]').getAttribute('data-status'), { timeout: 15_000 }).toBe('INACTIVE');
    expect(await admin.getRun(runId)).toMatchObject({ label: 'from the form', input: { amount: 12.5, currency: 'USD' }, runOwner: 'admin' });
    await admin.cancelRun(runId);
  });

  it('shows the .flow source of a version deployed from one, beside its JSON', async () => {
    const text = readFileSync(new URL('../../examples/countdown.flow', import.meta.url), 'utf8');
    const compiled = compileFlow(text, { file: 'countdown.flow' });
    if (!compiled.ok) throw new Error('examples/countdown.flow does not compile');
    await admin.deployFlow(compiled.flow, { publish: true, source: { fileName: 'countdown.flow', text } });
    const page = await tab({ token: server.adminToken });
    await page.goto(`${server.url}/ui/flows/${encodeURIComponent(compiled.flow.id)}`);
    await page.getByRole('tab', { name: 'Source (countdown.flow)' }).click();
    const source = page.getByTestId('flow-source');
    expect(await source.locator('.source-line').nth(1).textContent()).toBe('2machine countdown_loop\n');
    expect(await source.locator('.source-line').count()).toBe(text.split('\n').length);
    // A version from JSON has no source tab.
    await page.goto(`${server.url}/ui/flows/${encodeURIComponent('demo/hold')}`);
    await page.getByText('Definition').waitFor();
    expect(await page.getByRole('tab', { name: /Source/ }).count()).toBe(0);
  });

  it('publishes an event from its form and links the runs it started', async () => {
    const page = await tab({ token: server.adminToken });
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByLabel('name').fill('order.created');
    await page.getByLabel('payload (JSON)').fill('{"orderId": "o-1"');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('is not valid JSON').waitFor();
    await page.getByLabel('payload (JSON)').fill('{"orderId": "o-1"}');
    await page.getByRole('button', { name: 'Publish' }).click();
    const started = page.getByTestId('event-result').locator('a.mono');
    await started.first().waitFor();
    expect(await started.count()).toBe(1);
    await started.first().click();
    await expect.poll(() => page.locator('h1 [data-status]').getAttribute('data-status'), { timeout: 15_000 }).toBe('SUCCEEDED');
    expect(await page.locator('h1').textContent()).toContain('demo/on-order');
  });

  it('shows a run an event started for a token that may not read it without a link', async () => {
    const page = await tab({ token: server.adaToken });
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByLabel('name').fill('order.created');
    await page.getByLabel('payload (JSON)').fill('{"orderId": "o-2"}');
    await page.getByRole('button', { name: 'Publish' }).click();
    const result = page.getByTestId('event-result');
    await result.waitFor();
    const hidden = result.getByText('(not visible to this token)');
    await hidden.first().waitFor();
    expect(await result.locator('a.mono').count()).toBe(0);
  });

  it('shows a token only its own runs, and a run it may not see as not found', async () => {
    const own = await ada.runFlow({ flowId: 'demo/hold', label: 'ada-own' });
    const others = await admin.runFlow({ flowId: 'demo/hold', label: 'admin-only' });
    const page = await tab({ token: server.adaToken, expected: [/404/] });
    await row(page, own.runId).waitFor();
    expect(await page.locator('tr[data-run-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run-id')))).toEqual([own.runId]);
    await page.getByLabel('run id').fill(others.runId);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('alert').filter({ hasText: 'RUN_NOT_FOUND' }).waitFor();
    await admin.cancelRun(own.runId);
    await admin.cancelRun(others.runId);
  });

  it('resumes a run page whose stream dropped after the last event it saw: nothing lost, nothing twice', async () => {
    const run = await admin.runFlow({ flowId: 'demo/approval', input: { amount: 7 } });
    const page = await tab({ token: server.adminToken, expected: [/ERR_|Failed to load resource/] });
    await page.goto(`${server.url}/ui/runs/${run.runId}`);
    await page.getByTestId('approval').waitFor();
    // Events recorded while the page is away must come when it is back (Last-Event-ID), once each.
    await page.route('**/stream', (route) => route.abort('connectionreset'));
    expect(server.dropStreams()).toBeGreaterThan(0);
    await page.getByRole('alert').filter({ hasText: 'NETWORK_ERROR' }).waitFor();
    await admin.approve(run.runId, { stepId: 'charge' });
    await page.unroute('**/stream');
    await expect.poll(() => page.locator('h1 [data-status]').getAttribute('data-status'), { timeout: 15_000 }).toBe('SUCCEEDED');
    const logs = (await admin.getRunEvents(run.runId)).filter((e) => e.kind === 'log').length;
    await expect.poll(() => page.getByRole('tab', { name: /Logs/ }).textContent(), { timeout: 15_000 }).toBe(`Logs (${logs})`);
  });

  it('says when the server does not answer, and recovers by itself', async () => {
    const page = await tab({ token: server.adminToken, expected: [/ERR_FAILED|Failed to load resource/] });
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page.route('**/runs?**', (route) => route.abort('connectionrefused'));
    await page.getByText('Connection to the server lost').waitFor();
    await page.unroute('**/runs?**');
    await page.getByText('Connection to the server lost').waitFor({ state: 'detached' });
  });
});
