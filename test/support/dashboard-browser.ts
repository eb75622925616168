/**
 * What the dashboard's browser tests stand on: the dashboard built from source by Vite into a
 * temporary folder (so the tests check the code as it is, not a stale dist/), a real server on a
 * port (`serve()` with the router's `dashboard` option) over a SQLite file, an administrator and
 * a plain user with API tokens, and Debian's Chromium driven by playwright-core (browsers cannot
 * be downloaded here). Every page records its console errors and uncaught exceptions, so a test
 * can require there were none.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createEngine, createFilesystemStores, type Engine, type FlowDefinition, type Module, type Store } from '../../src/index.js';
import { createFlowApiRouter, serve, type FlowApiRouter, type RunningServer } from '../../src/server/index.js';
import { issueApiToken, withPrincipalsOf } from '../../src/cli/admin-store.js';

const root = resolve(import.meta.dirname, '../..');

/** The flags the tests run Chromium with (no GPU, no network of its own, no first-run UI). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Builds the dashboard from `dashboard/` into a new temporary folder and returns it. */
export async function buildDashboard(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'flowrun-dashboard-'));
  const { build } = await import('vite');
  await build({ configFile: join(root, 'dashboard/vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

/** Waits until its signal aborts (a cancel): a step that runs until the run is canceled. */
export const hold: Module = (_input, ctx) => new Promise((done) => ctx.signal.addEventListener('abort', () => done(null), { once: true }));

/** A flow whose `charge` step waits for an approval (the engine's governance asks for one), then ends. */
export const approvalFlow: FlowDefinition = {
  id: 'demo/approval',
  title: 'Approved charge',
  actions: {
    main: {
      params: { amount: { type: 'number', required: true, description: 'in euros' }, note: { type: 'text' }, currency: { schema: { enum: ['EUR', 'USD'] }, default: 'EUR' } },
      startAt: 'check',
      steps: {
        check: { stepType: 'DECIDE', transitions: [{ condition: 'input.amount > 1000', nextStepInstanceId: 'refuse' }], defaultNextStepInstanceId: 'charge' },
        refuse: { stepType: 'FAIL', code: 'TOO_LARGE', description: 'over the limit' },
        charge: { stepType: 'MODULE', moduleIdentifier: 'charge', defaultNextStepInstanceId: 'receipt' },
        receipt: { stepType: 'COMPUTE', expression: '{charged: input.amount}' },
      },
    },
  },
};

/** A flow that runs until it is canceled. */
export const holdFlow: FlowDefinition = {
  id: 'demo/hold',
  actions: { main: { startAt: 'wait', steps: { wait: { stepType: 'MODULE', moduleIdentifier: 'hold' } } } },
};

/** A flow every `order.created` event starts. */
export const onOrderFlow: FlowDefinition = {
  id: 'demo/on-order',
  subscriptions: [{ on: 'order.created', run: 'main' }],
  actions: { main: { startAt: 'note', steps: { note: { stepType: 'COMPUTE', expression: '{seen: true}' } } } },
};

/** A flow that calls `demo/on-order` and returns: a parent with one child run. */
export const parentFlow: FlowDefinition = {
  id: 'demo/parent',
  actions: { main: { startAt: 'call', steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 'demo/on-order' } } } },
};

/** The server, its store and the tokens of the browser tests. */
export interface DashboardServer {
  url: string;
  engine: Engine;
  adminToken: string;
  adaToken: string;
  /** Breaks every open event stream mid-way, as a dropped connection would (the server keeps running). */
  dropStreams(): number;
  close(): Promise<void>;
}

/** The router, with its event streams' bodies passed through a pipe the test can break. */
function breakableStreams(router: FlowApiRouter): { router: FlowApiRouter; dropStreams: () => number } {
  const open = new Set<() => void>();
  const fetch = async (request: Request): Promise<Response> => {
    const response = await router.fetch(request);
    if (!new URL(request.url).pathname.endsWith('/stream') || !response.body) return response;
    const reader = response.body.getReader();
    let drop = (): void => undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        drop = () => {
          controller.error(new Error('stream dropped by the test'));
          void reader.cancel();
        };
        open.add(drop);
      },
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          open.delete(drop);
          controller.close();
        } else controller.enqueue(value);
      },
      cancel() {
        open.delete(drop);
        return reader.cancel();
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  const dropStreams = (): number => {
    const count = open.size;
    for (const drop of [...open]) drop();
    open.clear();
    return count;
  };
  return { router: { fetch, close: () => router.close(), get openStreams() { return router.openStreams; } }, dropStreams };
}

/** Starts the API with the dashboard built in `dashboardDir` over a fresh SQLite file, with `admin` (a system administrator) and `ada`. */
export async function startDashboardServer(dashboardDir: string): Promise<DashboardServer> {
  const rootDir = mkdtempSync(join(tmpdir(), 'flowrun-dashboard-store-'));
  const stores: Store = createFilesystemStores({ rootDir, developmentOnly: true });
  const engine = createEngine({
    stores,
    modules: { hold, charge: () => ({ ok: true }) },
    pollIntervalMs: 50,
    runtimeConfig: { governance: (request) => (request.stepId === 'charge' ? { decision: 'approve', reason: 'a person checks every charge' } : 'allow') },
  });
  const tokens = await withPrincipalsOf(stores, async (principals) => {
    await principals.createUser({ id: 'admin', displayName: 'Administrator' });
    await principals.setAdministrator('admin', true);
    const admin = await issueApiToken(stores, principals, { principalId: 'admin' });
    const ada = await issueApiToken(stores, principals, { principalId: 'ada' });
    return { admin: admin.token, ada: ada.token };
  });
  for (const flow of [approvalFlow, holdFlow, onOrderFlow, parentFlow]) await engine.deployFlow(flow, { deployedBy: 'admin', publish: true });
  const { router, dropStreams } = breakableStreams(createFlowApiRouter({ engine, dashboard: { dir: dashboardDir }, heartbeatMs: 1_000 }));
  const server: RunningServer = await serve({ router });
  return {
    url: server.url,
    engine,
    adminToken: tokens.admin,
    adaToken: tokens.ada,
    dropStreams,
    close: async () => {
      await server.close();
      await engine.close();
      await stores.close();
      rmSync(rootDir, { recursive: true, force: true });
    },
  };
}

/** The Chromium the tests drive: FLOWRUN_CHROMIUM, else Debian's /usr/bin/chromium. */
export const chromiumPath = process.env.FLOWRUN_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or null when they can. On CI (CI=true) a missing
 * Chromium is a failure, not a skip: `.ci/run` installs it.
 */
export function browserSkipNote(): string | null {
  if (existsSync(chromiumPath) || process.env.CI === 'true') return null;
  return `no Chromium at ${chromiumPath} (apt-get install chromium, or set FLOWRUN_CHROMIUM): the dashboard's browser tests are skipped`;
}

/** Launches Chromium (see {@link chromiumPath}). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
}

/** A page in a fresh context (its own sessionStorage) that records console errors and uncaught exceptions. */
export async function openPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}

/** Saves a screenshot of `page` as docs/images/NAME.png when FLOWRUN_SCREENSHOTS=1 asks for them (the README shows them). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.FLOWRUN_SCREENSHOTS !== '1') return;
  await page.screenshot({ path: join(root, 'docs/images', `${name}.png`), fullPage: true });
}
