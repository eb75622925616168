/**
 * Issue 14 §5: `flowrun run FILE` leaves a store alone unless told, says when the run ends up
 * waiting (exit 3), and takes `--modules file.ts`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFlowrunCli } from '../support/run-cli.js';
import { createFilesystemStores } from '../../src/index.js';
import { shipsOnPayment } from '../support/hostile-flows.js';

/** `flowrun ARGS` with no FLOWRUN_STORE from the machine. */
function flowrun(args: string[], env: Record<string, string> = {}) {
  const clean: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!env.FLOWRUN_STORE) delete clean.FLOWRUN_STORE;
  return runFlowrunCli(args, { env: clean });
}

const callee = (says: string) => ({ id: 'shop/greet', actions: { main: { startAt: 'say', steps: { say: { stepType: 'COMPUTE', expression: `{said: "${says}"}` } } } } });
const caller = { id: 'shop/front', actions: { main: { startAt: 'call', steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 'shop/greet' } } } } };
const waiter = shipsOnPayment();

describe('flowrun run and the store a server uses', () => {
  it('does not publish the folder\'s files over the versions a store already has, unless --deploy-siblings', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'flowrun-run-store-'));
    const stores = createFilesystemStores({ rootDir: storeDir });
    const { createEngine } = await import('../../src/index.js');
    const engine = createEngine({ stores, poll: false });
    await engine.deployFlow(callee('served') as never, { publish: true });
    await engine.close();
    await stores.close();

    const folder = mkdtempSync(join(tmpdir(), 'flowrun-run-files-'));
    writeFileSync(join(folder, 'greet.json'), JSON.stringify(callee('edited')));
    writeFileSync(join(folder, 'front.json'), JSON.stringify(caller));
    const told = await flowrun(['run', join(folder, 'front.json'), '--quiet', '--store', `sqlite:${storeDir}`]);
    expect(told.code, told.stderr).toBe(0);
    expect(JSON.parse(told.stdout)).toEqual({ said: 'served' });
    const after = createFilesystemStores({ rootDir: storeDir });
    expect((await after.listFlows()).find((f) => f.flowId === 'shop/greet')).toMatchObject({ latestVersion: 1, publishedVersion: 1 });
    await after.close();

    // By default the run lives in memory, with the folder's own files.
    const inMemory = await flowrun(['run', join(folder, 'front.json'), '--quiet']);
    expect(JSON.parse(inMemory.stdout)).toEqual({ said: 'edited' });
    // Told to, it deploys them.
    const deployed = await flowrun(['run', join(folder, 'front.json'), '--quiet', '--store', `sqlite:${storeDir}`, '--deploy-siblings']);
    expect(JSON.parse(deployed.stdout)).toEqual({ said: 'edited' });
  }, 60_000);

  it('exits 3 with a message naming what the run waits for, and keeps it in the store for a server to resume', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'flowrun-run-wait-'));
    writeFileSync(join(folder, 'ship.json'), JSON.stringify(waiter));
    const inMemory = await flowrun(['run', join(folder, 'ship.json'), '--input', '{"orderId":"o-1"}']);
    expect(inMemory.code).toBe(3);
    expect(inMemory.stderr).toMatch(/run \S+ is waiting \(INACTIVE\)/);
    expect(inMemory.stderr).toContain('waits at step paid for event "payment.confirmed" matching {"orderId":"o-1"}');
    expect(inMemory.stderr).toContain('kept in memory');

    // A caller whose child waits: the tree waits, in the store.
    writeFileSync(join(folder, 'front.json'), JSON.stringify({ id: 'shop/front', actions: { main: { startAt: 'call', steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 'shop/ship', inputMappings: { orderId: '"o-2"' } } } } } }));
    const storeDir = mkdtempSync(join(tmpdir(), 'flowrun-run-wait-store-'));
    const kept = await flowrun(['run', join(folder, 'front.json'), '--json', '--store', `sqlite:${storeDir}`]);
    expect(kept.code).toBe(3);
    const printed = JSON.parse(kept.stdout) as { requestId: string; status: string; waiting: { flowId: string; suspension: { event: string } }[] };
    expect(printed).toMatchObject({ status: 'INACTIVE', waiting: [{ flowId: 'shop/ship', suspension: { event: 'payment.confirmed' } }] });
    expect(kept.stderr).toContain(`flowrun serve --store sqlite:${storeDir}`);
    const stores = createFilesystemStores({ rootDir: storeDir });
    expect((await stores.getRun(printed.requestId))?.status).toBe('ACTIVE');
    await stores.close();
  }, 60_000);

  it('takes --modules as a TypeScript file, and says what to do with one that exports no function', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'flowrun-run-modules-'));
    writeFileSync(join(folder, 'charge.json'), JSON.stringify({ id: 'billing/charge', actions: { main: { startAt: 'c', steps: { c: { stepType: 'MODULE', moduleIdentifier: 'billing/charge' } } } } }));
    writeFileSync(join(folder, 'modules.ts'), "const charge = async (input: unknown): Promise<{ charged: boolean }> => ({ charged: true });\nexport default { 'billing/charge': charge };\n");
    const ran = await flowrun(['run', join(folder, 'charge.json'), '--quiet', '--modules', join(folder, 'modules.ts')]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ charged: true });
    writeFileSync(join(folder, 'empty.ts'), 'export const rate: number = 3;\n');
    const empty = await flowrun(['run', join(folder, 'charge.json'), '--modules', join(folder, 'empty.ts')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('exports no function');
  }, 60_000);
});
