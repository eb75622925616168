/**
 * Listing markers tell nothing about runs the caller may not see (DESIGN §6): a page that ends on
 * runs skipped for the caller used to hand out a marker holding the last one's id and start time;
 * markers are now sealed by the router (marker-seal.ts), and only a router over the same store opens them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';

let f: ServerFixture;
const ottosRuns: string[] = [];
beforeEach(async () => {
  f = await createServerFixture();
  ottosRuns.length = 0;
  const mine = await f.json('POST', '/runs', { as: 'olivia', body: { flowId: 'demo/echo', input: { n: 0 } } });
  expect(mine.status).toBe(201);
  // Newer than olivia's run: a listing newest first reads all of them before hers.
  for (let i = 0; i < 25; i++) ottosRuns.push((await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', input: { n: i } } })).body.run.runId);
});
afterEach(async () => {
  await f.close();
});

/** Every printable reading of a marker: as sent, and base64url-decoded. */
function readings(marker: string): string {
  return `${marker}\n${Buffer.from(marker, 'base64url').toString('latin1')}`;
}

describe('listing markers', () => {
  it("hand out nothing of the runs a page skipped: no id, no time; following them still reaches the caller's runs", async () => {
    const seen: string[] = [];
    let marker: string | null = null;
    for (let i = 0; i < 30; i++) {
      const page: { body: { runs: { runId: string }[]; hasNextPage: boolean; marker: string | null } } = await f.json('GET', `/runs?limit=1&markerOnly=true${marker ? `&marker=${marker}` : ''}`, { as: 'olivia' });
      expect(page.body.runs.map((r) => r.runId).filter((id) => ottosRuns.includes(id))).toEqual([]);
      seen.push(...page.body.runs.map((r) => r.runId));
      if (page.body.marker) for (const hidden of ottosRuns) expect(readings(page.body.marker)).not.toContain(hidden);
      if (!page.body.hasNextPage) break;
      marker = page.body.marker;
    }
    expect(seen).toHaveLength(1);
  });

  it('refuse a marker changed by one character, or made by a router over another store, as query.marker', async () => {
    const first = (await f.json('GET', '/runs?limit=2', { as: 'otto' })).body;
    expect((await f.json('GET', `/runs?limit=2&marker=${first.marker}`, { as: 'otto' })).status).toBe(200);
    const last = first.marker.at(-2) === 'A' ? 'B' : 'A';
    const changed = await f.json('GET', `/runs?limit=2&marker=${first.marker.slice(0, -2)}${last}${first.marker.at(-1)}`, { as: 'otto' });
    expect([changed.status, changed.body.error.details.issues[0].path]).toEqual([400, 'query.marker']);

    const other = await createServerFixture();
    try {
      const foreign = await other.json('GET', `/runs?limit=2&marker=${first.marker}`, { as: 'otto' });
      expect([foreign.status, foreign.body.error.details.issues[0].path]).toEqual([400, 'query.marker']);
    } finally {
      await other.close();
    }
  });
});
