/**
 * Durability of acknowledged writes with a real process: a writer on the SQLite store (WAL
 * fsynced off the event loop, checkpoints in a worker thread) is killed with SIGKILL while 32 runs
 * at a time execute; every run whose `runAction` had resolved SUCCEEDED must be SUCCEEDED in the
 * file afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStoreSpec } from '../../src/cli/store-spec.js';

const root = resolve(import.meta.dirname, '../..');

/** Starts the writer, kills it once it acknowledged `acks` runs; the ids it acknowledged. */
async function killAfterAcks(storeSpec: string, acks: number): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/recovery/acked-writer.ts'], {
    cwd: root,
    env: { ...process.env, FLOWRUN_STORE: storeSpec },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolveExit) => child.on('exit', () => resolveExit()));
  await new Promise<void>((resolveAcks, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').length > acks) resolveAcks();
    });
    child.on('exit', () => reject(new Error(`writer exited before ${acks} acknowledgements: ${err}`)));
  });
  child.kill('SIGKILL');
  await exited;
  // Only complete lines: a line cut by the kill was not fully acknowledged to the reader.
  return out
    .split('\n')
    .filter((line) => line.startsWith('acked '))
    .map((line) => line.slice('acked '.length));
}

describe('acknowledged writes on SQLite', () => {
  it('keeps every run whose runAction resolved SUCCEEDED when the process is killed mid-write', async () => {
    const spec = `sqlite:${join(mkdtempSync(join(tmpdir(), 'flowrun-acked-')), 'acked.db')}`;
    for (let round = 0; round < 2; round++) {
      const acked = await killAfterAcks(spec, 600);
      expect(acked.length).toBeGreaterThanOrEqual(600);
      const store = openStoreSpec(spec);
      try {
        const lost: string[] = [];
        for (const runId of acked) {
          const run = await store.getRun(runId);
          if (run?.status !== 'SUCCEEDED') lost.push(`${runId} ${run?.status ?? 'missing'}`);
        }
        expect(lost).toEqual([]);
      } finally {
        await store.close();
      }
    }
  }, 120_000);
});
