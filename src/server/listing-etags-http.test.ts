/**
 * Conditional `GET /runs` (listing-etags.ts) over a SQLite file, with a second store on the same
 * file standing for another process: a poll answered 304 costs no listing read, and a 304 never
 * hides a change made anywhere in between nor hands one principal's answer to another.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStores, type SqliteStore } from '../index.js';
import { createServerFixture, openSharedFileFixture, type ServerFixture, type SharedFileFixture } from '../../test/support/server-fixture.js';

let stores: SqliteStore;
let otherProcess: SqliteStore;
let f: ServerFixture;

let fixture: SharedFileFixture;

beforeEach(async () => {
  fixture = await openSharedFileFixture('flowrun-listing-etags-');
  ({ stores, otherProcess, f } = fixture);
});
afterEach(() => fixture.close());

const LIST = '/runs?limit=20&orderBy=startTime&orderDir=desc&markerOnly=true&rootsOnly=true&childCounts=true';

async function list(path = LIST, options: { as?: string; etag?: string } = {}): Promise<{ status: number; etag: string | null; runIds: string[] }> {
  const response = await f.call('GET', path, { ...(options.as ? { as: options.as } : {}), ...(options.etag ? { headers: { 'if-none-match': options.etag } } : {}) });
  const body = response.status === 200 ? ((await response.json()) as { runs: { runId: string }[] }) : { runs: [] };
  return { status: response.status, etag: response.headers.get('etag'), runIds: body.runs.map((r) => r.runId) };
}

async function startRun(as = 'olivia'): Promise<string> {
  const { status, body } = await f.json('POST', '/runs', { as, body: { flowId: 'demo/echo', input: { n: 1 }, wait: true } });
  expect(status).toBe(200);
  return body.run.runId;
}

describe('GET /runs with If-None-Match', () => {
  it('answers 304 without reading the listing while nothing changed', async () => {
    const runId = await startRun();
    const first = await list();
    expect(first).toMatchObject({ status: 200, runIds: [runId] });
    expect(first.etag).toMatch(/^"[0-9a-f]{32}"$/);
    const listRuns = vi.spyOn(stores, 'listRuns');
    expect(await list(LIST, { etag: first.etag! })).toMatchObject({ status: 304, etag: first.etag });
    expect(listRuns).not.toHaveBeenCalled();
  });

  it('answers 200 with the change when this process wrote in between', async () => {
    const one = await startRun();
    const first = await list();
    const two = await startRun();
    const after = await list(LIST, { etag: first.etag! });
    expect(after.status).toBe(200);
    expect(after.runIds).toEqual([two, one]);
    expect(after.etag).not.toBe(first.etag);
  });

  it('answers 200 with the change another process made over the same file', async () => {
    const runId = await startRun();
    const first = await list('/runs?label=elsewhere');
    expect(first.runIds).toEqual([]);
    await otherProcess.updateRun({ runId, at: Date.now(), label: 'relabelled elsewhere', tags: [] });
    expect(await list('/runs?label=elsewhere', { etag: first.etag! })).toMatchObject({ status: 200, runIds: [runId] });
  });

  it("never answers one principal's tag for another, nor for another query", async () => {
    const olivias = await startRun('olivia');
    const monas = await startRun('mona');
    const olivia = await list();
    expect(olivia.runIds).toEqual([olivias]);
    const mona = await list(LIST, { as: 'mona', etag: olivia.etag! });
    expect(mona).toMatchObject({ status: 200, runIds: [monas] });
    expect(mona.etag).not.toBe(olivia.etag);
    expect((await list(`${LIST}&status=SUCCEEDED`, { etag: olivia.etag! })).status).toBe(200);
  });

  it('still refuses a request without credentials, whatever tag it names', async () => {
    const first = await list();
    const response = await f.call('GET', LIST, { as: null, headers: { 'if-none-match': first.etag! } });
    expect(response.status).toBe(401);
  });
});

describe('GET /runs over a store that cannot tell when it changed', () => {
  it('carries no tag and answers in full', async () => {
    await f.close();
    f = await createServerFixture({ stores: createMemoryStores() });
    await startRun();
    const first = await list();
    expect(first).toMatchObject({ status: 200, etag: null });
    expect((await list(LIST, { etag: '"anything"' })).status).toBe(200);
  });
});
