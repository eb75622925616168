/**
 * A large input (issue 13): kept as its JSON text until a step reads it (core/sealed-text.ts), it
 * reads the same in expressions and modules, and back from every store, as the document the caller
 * handed in — whatever the caller does to its object afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createEngine, createFilesystemStores, createMemoryStores, createPostgresStores, type FlowDefinition, type Store } from '../../../index.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'flowrun-large-input-'));
const pgUrl = process.env.FLOWRUN_TEST_PG_URL;
const schemas: string[] = [];
afterAll(async () => {
  rmSync(tempRoot, { recursive: true, force: true });
  if (!pgUrl || schemas.length === 0) return;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

const stores: [string, () => Store, string | false][] = [
  ['memory', () => createMemoryStores(), false],
  ['SQLite file', () => createFilesystemStores({ rootDir: mkdtempSync(join(tempRoot, 'db-')) }), false],
  [
    'PostgreSQL',
    () => {
      const schema = `flowrun_large_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
      return createPostgresStores({ connectionString: pgUrl!, schema });
    },
    pgUrl ? false : 'FLOWRUN_TEST_PG_URL is not set',
  ],
];

/** A document of order lines, ~200 KiB of JSON, in a param as a caller usually sends one. */
const order = (): { s: number; payload: { note: string; lines: { sku: string; name: string; qty: number; tags: string[] }[] } } => ({
  s: 1,
  payload: { note: 'rush ✓', lines: Array.from({ length: 3000 }, (_, k) => ({ sku: `sku-${k}`, name: `Item é ${k}`, qty: k % 7, tags: ['a', 'b'] })) },
});

const flow: FlowDefinition = {
  id: 'orders/large',
  actions: {
    main: {
      params: { s: { type: 'number', required: true }, payload: { type: 'map', required: true } },
      startAt: 'skip',
      steps: {
        skip: { stepType: 'COMPUTE', expression: '{s: input.s + 1}', defaultNextStepInstanceId: 'read' },
        read: { stepType: 'COMPUTE', expression: '{sku: input.payload.lines[7].sku, qty: input.payload.lines[2999].qty, count: input.payload.lines.length, note: input.payload.note}', defaultNextStepInstanceId: 'count' },
        count: { stepType: 'MODULE', moduleIdentifier: 'count', inputMappings: { lines: '$.input.payload.lines', s: '$.steps.skip.s', read: '$.steps.read' } },
      },
    },
  },
};

describe.each(stores)('a large input over %s', (_name, createStore, skip) => {
  it.skipIf(Boolean(skip))('reads as the document handed in, in expressions, in modules and back from the store, whatever the caller does to it afterwards', async () => {
    const store = createStore();
    const engine = createEngine({
      stores: store,
      poll: false,
      modules: { count: (input) => ({ lines: (input.lines as unknown[]).length, first: (input.lines as { sku: string }[])[0]!.sku, s: input.s, read: input.read }) },
    });
    await engine.deployFlow(flow, { publish: true });
    const input = order();
    const expected = order();
    const { requestId } = await engine.startRun({ flow: 'orders/large', input });
    input.payload.lines[7]!.sku = 'changed';
    input.payload.lines.length = 10;
    input.payload.note = 'changed';
    await engine.whenIdle();
    const run = await engine.getRun(requestId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ lines: 3000, first: 'sku-0', s: 2, read: { sku: 'sku-7', qty: 2999 % 7, count: 3000, note: 'rush ✓' } });
    expect(run.input).toEqual(expected);
    expect(JSON.parse(JSON.stringify(run.input))).toEqual(expected);
    await engine.close();
    await store.close();
  });
});

describe('a large input no step reads', () => {
  it('is never built again from its text: binding and checking params, the run and the memory store leave it as text', async () => {
    const stores = createMemoryStores();
    const engine = createEngine({ stores, poll: false });
    await engine.deployFlow(
      { id: 'orders/skip', actions: { main: { params: { s: { type: 'number', required: true }, payload: { type: 'map', required: true } }, startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '{s: input.s + 1}' } } } } },
      { publish: true },
    );
    const parse = vi.spyOn(JSON, 'parse');
    const result = await engine.runAction({ flow: 'orders/skip', input: order() });
    const large = parse.mock.calls.filter(([text]) => text.length > 64 * 1024).length;
    parse.mockRestore();
    expect(result.output).toEqual({ s: 2 });
    expect(large).toBe(0);
    expect((await engine.getRun(result.requestId)).input).toEqual(order());
    await engine.close();
  });
});
