/**
 * The workloads of the peer comparison and the cost-growth measurement (issue 13), as one
 * contract every engine implements — flowrun on each store and the peers alike — so a table row
 * differs only in the engine. Each step is user code returning `{s: s + 1, i}`, which the engine
 * records before the next step (durable engines) or passes on (in-process ones):
 *
 * - `parent`: 1 step, a call of a 3-step child that waits for its result, 1 more step (s = 5);
 * - `steps`: one run of `stepsPerRun` sequential steps (s = stepsPerRun), its input carrying an
 *   optional payload no step reads — what the run holds, not what a step needs.
 */
import { readFileSync } from 'node:fs';

/** What every step returns, and what a run returns. */
export interface StepResult {
  s: number;
  i: number;
}

/** The payload a growth run carries in its input: order lines, about `kib` KiB of JSON. */
export interface Payload {
  lines: { sku: string; name: string; qty: number; price: number; tags: string[] }[];
}

/** One engine, set up for the workloads; built by a factory of peer-engines.ts in a fresh process. */
export interface PeerEngine {
  /** The `s` a parent ends with when it is not 5 (flowrun's subflow variant: 4, see peer-engine-flowrun.ts). */
  parentS?: number;
  /** The parent workload for `i`: resolves to `{s: 5, i}` once the parent ended. */
  parent(i: number): Promise<StepResult>;
  /** One run of `stepsPerRun` steps for `i`, `payload` in its input: resolves to `{s: stepsPerRun, i}`. */
  steps(i: number, payload: Payload | null): Promise<StepResult>;
  /** Releases what the engine holds (connections, servers, files). */
  close(): Promise<void>;
}

/** What an engine factory is given. */
export interface PeerEngineOptions {
  /** Steps of a `steps` run. */
  stepsPerRun: number;
  /** An empty folder on the benchmark disk for the engine's files, removed by the caller. */
  workDir: string;
}

/** The step function every engine calls: the user code of a step. */
export function step(x: StepResult): StepResult {
  return { s: x.s + 1, i: x.i };
}

/** A payload of about `kib` KiB of JSON (none for 0). */
export function payload(kib: number): Payload {
  const lines: Payload['lines'] = [];
  let size = 2;
  for (let k = 0; size < kib * 1024; k++) {
    const line = { sku: `sku-${k}`, name: `Item number ${k}`, qty: k % 7, price: (k % 100) + 0.5, tags: ['a', 'b'] };
    size += JSON.stringify(line).length + 1;
    lines.push(line);
  }
  return { lines };
}

/** Throws unless `result` is `{s: expected, i}` (what a workload must return). */
export function checkResult(engine: string, result: unknown, expected: number, i: number): void {
  const r = result as Partial<StepResult> | null;
  if (r?.s !== expected || r.i !== i) throw new Error(`${engine}: expected {s: ${expected}, i: ${i}}, got ${JSON.stringify(result)?.slice(0, 200)}`);
}

/** Bytes this process has caused to be written to storage so far (`/proc/self/io`); NaN off Linux. */
export function processWriteBytes(): number {
  try {
    return Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/** Thrown by an engine factory when the engine cannot run here (no binary, no server): a reason, not a failure. */
export class PeerSkipped extends Error {
  override readonly name = 'PeerSkipped';
}
