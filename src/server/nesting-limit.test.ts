/**
 * Hostile nesting over HTTP, on every store: values nested past the limit are refused with 400
 * INVALID_INPUT and change nothing, and a run whose stored data is damaged fails its own read
 * with RUN_DATA_UNREADABLE while every listing page holding it still answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFilesystemStores, createMemoryStores, createPostgresStores, type Store } from '../index.js';
import { freshPgSchema, pgUrl } from '../../test/support/pg-schema.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'flowrun-nesting-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** JSON text of `{"a": {"a": … 1}}` nested `levels` deep, written as text: JSON.stringify of a deep value exhausts the stack. */
const deepText = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

interface Backend {
  name: string;
  skip?: string;
  open(): Promise<{ stores: Store; corrupt: ((runId: string) => Promise<void>) | null; drop: () => Promise<void> }>;
}

let files = 0;
const backends: Backend[] = [
  { name: 'memory', open: async () => ({ stores: createMemoryStores(), corrupt: null, drop: async () => undefined }) },
  {
    name: 'sqlite',
    open: async () => {
      const rootDir = join(dir, `store-${++files}`);
      const stores = createFilesystemStores({ rootDir });
      const corrupt = async (runId: string): Promise<void> => {
        const db = new Database(join(rootDir, 'flowrun.db'));
        try {
          db.prepare(`UPDATE flowrun_runs SET state = '{"frames": [' WHERE run_id = ?`).run(runId);
        } finally {
          db.close();
        }
      };
      return { stores, corrupt, drop: async () => undefined };
    },
  },
  {
    name: 'postgres',
    ...(pgUrl ? {} : { skip: 'FLOWRUN_TEST_PG_URL unset' }),
    open: async () => {
      const { spec, drop } = freshPgSchema('nesting');
      const schema = new URL(spec).searchParams.get('schema')!;
      const stores = createPostgresStores({ connectionString: pgUrl!, schema });
      const corrupt = async (runId: string): Promise<void> => {
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect();
        try {
          await client.query(`UPDATE "${schema}".runs SET state = '"damaged"'::json WHERE run_id = $1`, [runId]);
        } finally {
          await client.end();
        }
      };
      return { stores, corrupt, drop };
    },
  },
];

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`nesting limit over HTTP: ${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, () => {
    let f: ServerFixture;
    let opened: Awaited<ReturnType<Backend['open']>>;
    const open = async () => {
      opened = await backend.open();
      f = await createServerFixture({ stores: opened.stores });
    };
    afterEach(async () => {
      await f.close();
      await opened.drop();
    });

    it('refuses a start whose input nests past 100 levels with 400 INVALID_INPUT naming the path, creating nothing', async () => {
      await open();
      for (const levels of [101, 4_150, 4_200, 100_000]) {
        const { status, body } = await f.json('POST', '/runs', { body: `{"flowId": "demo/echo", "input": ${deepText(levels)}}` });
        expect(status).toBe(400);
        expect(body.error).toMatchObject({ code: 'INVALID_INPUT', details: { issues: [{ path: 'input.a.a.a.a.a.a…(100 levels)', message: expect.stringContaining('100 levels') }] } });
      }
      const batch = await f.json('POST', '/runs/batch/start', { body: `{"runs": [{"flowId": "demo/echo", "input": {"n": 1}}, {"flowId": "demo/echo", "input": ${deepText(5_000)}}]}` });
      expect(batch.status).toBe(200);
      expect(batch.body.results[0].run.flowId).toBe('demo/echo');
      expect(batch.body.results[1].error).toMatchObject({ code: 'INVALID_INPUT', details: { issues: [{ path: expect.stringMatching(/^input\.a\.a/) }] } });
      const listed = await f.json('GET', '/runs', { as: 'adam' });
      expect(listed.status).toBe(200);
      expect(listed.body.runs).toHaveLength(1); // only the batch's good item
      const fits = await f.json('POST', '/runs', { body: `{"flowId": "demo/echo", "input": {"n": 2, "x": ${deepText(98)}}, "wait": true}` });
      expect(fits.status).toBe(200);
      expect((await f.json('GET', `/runs/${fits.body.run.runId}`)).status).toBe(200);
    });

    it('refuses a too-deep event payload and a too-deep definition with 400 INVALID_INPUT, changing nothing', async () => {
      await open();
      const event = await f.json('POST', '/events', { body: `{"name": "x.happened", "payload": ${deepText(10_000)}}` });
      expect(event.status).toBe(400);
      expect(event.body.error).toMatchObject({ code: 'INVALID_INPUT', details: { issues: [{ path: expect.stringMatching(/^payload\.a\.a/) }] } });
      const flowsBefore = (await f.json('GET', '/flows', { as: 'adam' })).body.flows;
      const definition = `{"id": "deep/flow", "actions": {"main": {"startAt": "e", "steps": {"e": {"stepType": "COMPUTE", "expression": "1", "literals": ${deepText(10_000)}}}}}}`;
      const deployed = await f.json('POST', '/flows', { body: `{"definition": ${definition}}` });
      expect(deployed.status).toBe(400);
      expect(deployed.body.error).toMatchObject({ code: 'INVALID_INPUT', details: { issues: [{ path: expect.stringMatching(/^definition\.actions\.main\.steps\.e/) }] } });
      expect((await f.json('GET', '/flows', { as: 'adam' })).body.flows).toEqual(flowsBefore);
      expect((await f.json('GET', '/runs', { as: 'adam' })).body.runs).toEqual([]);
    });

    const memoryNote = backend.name === 'memory' ? ' (skipped: the memory store keeps objects and never parses stored data)' : '';
    it.skipIf(backend.name === 'memory')(`answers a damaged run with RUN_DATA_UNREADABLE, still lists it marked, and hides it like any run from strangers${memoryNote}`, async () => {
      await open();
      // One after the other, so the listing's order (start time, then id) is r1, r2, r3.
      const started = [];
      for (const n of [1, 2, 3]) started.push(await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n }, label: `r${n}`, wait: true } }));
      const [first, damaged, last] = started.map((s) => s.body.run.runId as string);
      await opened.corrupt!(damaged!);
      const read = await f.json('GET', `/runs/${damaged}`);
      expect(read.status).toBe(500);
      expect(read.body.error).toMatchObject({ code: 'RUN_DATA_UNREADABLE', details: { runId: damaged } });
      const page = await f.json('GET', '/runs?orderDir=asc');
      expect(page.status).toBe(200);
      expect(page.body.runs.map((r: { runId: string; label: string; dataError?: { code: string } }) => [r.runId, r.label, r.dataError?.code ?? null])).toEqual([
        [first, 'r1', null],
        [damaged, 'r2', 'RUN_DATA_UNREADABLE'],
        [last, 'r3', null],
      ]);
      const small = await f.json('GET', '/runs?limit=1&orderDir=asc');
      const second = await f.json('GET', `/runs?limit=1&orderDir=asc&marker=${encodeURIComponent(small.body.marker)}`);
      expect(second.body.runs.map((r: { runId: string }) => r.runId)).toEqual([damaged]);
      expect((await f.json('GET', `/runs/${damaged}`, { as: 'otto' })).body.error.code).toBe('RUN_NOT_FOUND');
      expect((await f.json('GET', '/runs', { as: 'otto' })).body.runs).toEqual([]);
      expect((await f.json('POST', '/runs/batch/get', { body: { runIds: [first, damaged] } })).body.results.map((r: { run?: unknown; error?: { code: string } }) => r.error?.code ?? 'ok')).toEqual(['ok', 'RUN_DATA_UNREADABLE']);
    });
  });
}
