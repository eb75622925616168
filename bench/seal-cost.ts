/**
 * Issue 13 item 1: what taking a run's input costs, per way of taking it — the options for a
 * caller's mutable 1 MiB input (the growth runs' payload, peer-workloads.ts) side by side, in
 * one process each so one's garbage does not land on another.
 *
 *   node --expose-gc --import tsx bench/seal-cost.ts --input-kib 1024 --rounds 3 [--copies 60]
 *
 * Each way: `--copies` takes of `{s, i, payload}` after a warm-up, every result kept (as the memory
 * store keeps every run's input), Node CPU per take (process.cpuUsage: the collector's threads
 * included). The ways:
 *   structuredClone, json-round-trip (JSON.parse(JSON.stringify)), hand-copy, hand-copy-frozen —
 *     copies only: no size measured, no nesting checked (what sealJson does besides copying);
 *   seal-fresh — sealJson of a new payload every time (a caller that builds its input per run;
 *     the payloads are built before the clock starts);
 *   seal-unchanged — sealJson of the same payload every time, unchanged (shares the earlier copy);
 *   seal-last-changed — the same payload with its last line changed before every take;
 *   freeze-in-place — deep Object.freeze of a new payload, no copy (what handing the input over
 *     to the engine, ownership and all, would cost instead of a copy);
 *   seal-input-fresh — sealInput (core/sealed-text.ts, what the engine takes a run's input with)
 *     of a new payload every time: its list kept as JSON text, never read here;
 *   measure-fresh, stringify-fresh — jsonSize or JSON.stringify of a new payload, nothing kept:
 *     the least a way that measures a new input pays.
 * Prints one markdown table: median (min–max) ms per take over the rounds.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jsonSize } from '../src/core/json-size.js';
import { sealJson } from '../src/core/seal-json.js';
import { sealInput } from '../src/core/sealed-text.js';
import { fmt, markdownTable, median, readOptions } from './measure.js';
import { payload, type Payload } from './peer-workloads.js';

const WAYS = ['structuredClone', 'json-round-trip', 'hand-copy', 'hand-copy-frozen', 'seal-fresh', 'seal-unchanged', 'seal-last-changed', 'freeze-in-place', 'seal-input-fresh', 'measure-fresh', 'stringify-fresh'] as const;
type Way = (typeof WAYS)[number];

const opt = readOptions(process.argv.slice(2));
const kib = opt.num('input-kib', 1024);
const copies = opt.num('copies', 60);
const way = opt.get('way', '');

/** A copy of plain data by hand, optionally freezing every object and array (no measuring, no checks). */
function handCopy(value: unknown, freeze: boolean): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = handCopy(value[i], freeze);
    return freeze ? Object.freeze(out) : out;
  }
  const out: Record<string, unknown> = {};
  for (const key in value) out[key] = handCopy((value as Record<string, unknown>)[key], freeze);
  return freeze ? Object.freeze(out) : out;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  for (const part of Object.values(value)) deepFreeze(part);
  Object.freeze(value);
}

/** Milliseconds of Node CPU per take for `way`, in this process. */
function measure(way: Way): number {
  const shared = payload(kib);
  const last = shared.lines[shared.lines.length - 1]!;
  const fresh: Payload[] = way === 'seal-fresh' || way === 'freeze-in-place' || way.endsWith('-fresh') ? Array.from({ length: copies + 10 }, () => payload(kib)) : [];
  const seal = (p: Payload, i: number): unknown => sealJson({ s: 0, i, payload: p }, { path: 'input', maxDepth: 64, maxBytes: 16 * 1024 * 1024 });
  const take: (i: number) => unknown = {
    structuredClone: (i: number) => structuredClone({ s: 0, i, payload: shared }),
    'json-round-trip': (i: number) => JSON.parse(JSON.stringify({ s: 0, i, payload: shared })) as unknown,
    'hand-copy': (i: number) => handCopy({ s: 0, i, payload: shared }, false),
    'hand-copy-frozen': (i: number) => handCopy({ s: 0, i, payload: shared }, true),
    'seal-fresh': (i: number) => seal(fresh[i]!, i),
    'seal-unchanged': (i: number) => seal(shared, i),
    'seal-last-changed': (i: number) => {
      last.qty = i;
      return seal(shared, i);
    },
    'seal-input-fresh': (i: number) => sealInput({ s: 0, i, payload: fresh[i]! }, { path: 'input', maxDepth: 64, maxBytes: 16 * 1024 * 1024 }),
    // Only the size is kept: nothing of the input.
    'measure-fresh': (i: number) => jsonSize({ s: 0, i, payload: fresh[i]! }),
    'stringify-fresh': (i: number) => JSON.stringify({ s: 0, i, payload: fresh[i]! }).length,
    'freeze-in-place': (i: number) => {
      const input = { s: 0, i, payload: fresh[i]! };
      deepFreeze(input);
      return input;
    },
  }[way];
  const kept: unknown[] = [];
  for (let i = 0; i < 10; i++) kept.push(take(i));
  (globalThis as { gc?: () => void }).gc?.();
  const cpu0 = process.cpuUsage();
  for (let i = 10; i < copies + 10; i++) kept.push(take(i));
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / copies;
}

if (way) {
  if (!(WAYS as readonly string[]).includes(way)) throw new Error(`unknown --way ${way}`);
  process.stdout.write(`${JSON.stringify({ way, ms: measure(way as Way) })}\n`);
} else {
  const rounds = opt.num('rounds', 3);
  const results = new Map<Way, number[]>(WAYS.map((w) => [w, []]));
  for (let r = 0; r < rounds; r++) {
    for (const w of r % 2 === 0 ? WAYS : [...WAYS].reverse()) {
      const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--way', w, '--input-kib', String(kib), '--copies', String(copies)], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`${w}: ${child.stderr}`);
      results.get(w)!.push((JSON.parse(child.stdout.trim().split('\n').pop()!) as { ms: number }).ms);
    }
  }
  const rows = WAYS.map((w) => {
    const xs = results.get(w)!;
    return [w, `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`];
  });
  process.stdout.write(`${kib} KiB input, ${copies} takes per process, every result kept, ${rounds} rounds: Node CPU ms per take, median (min–max)\n\n`);
  process.stdout.write(`${markdownTable(['way', 'ms per take'], rows)}\n`);
}
