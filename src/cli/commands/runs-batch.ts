/**
 * `flowrun runs batch-start|batch-get|batch-cancel --file FILE`: seed 003's batch operations from
 * a file. `batch-start` reads start requests (`{flowId, input?, label?, tags?, …}` as the client's
 * `runFlow` takes them) as a JSON array or one JSON object per line; `batch-get` and
 * `batch-cancel` read run ids, one per line (blank lines and `#` comments skipped) or a JSON
 * array. `-` reads standard input. Items go to the server 1,000 per request (its batch limit),
 * `--concurrency` at once each; one line per item says how it went, and the exit code is 1 when
 * any item failed.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { BatchResult, FlowClient, RunFlowOptions } from '../../client/index.js';
import type { CliIo } from '../cli-io.js';
import { printable } from '../printable.js';
import { describeError, parseCount, remoteClient, runCliAction, UsageError, withRemoteOptions, type RemoteOptions } from '../remote-client.js';

/** The most items the server takes in one batch request. */
const BATCH_LIMIT = 1000;

interface BatchOptions extends RemoteOptions {
  file: string;
  concurrency?: string;
}

/** Adds the batch subcommands to `runs`. */
export function registerRunsBatchCommands(runs: Command, io: CliIo, setExit: (code: number) => void): void {
  const batch = (name: string, description: string, what: string, run: (client: FlowClient, text: string, concurrency: number | undefined) => Promise<{ key: string; result: BatchResult }[]>): void => {
    withRemoteOptions(
      runs
        .command(name)
        .description(description)
        .requiredOption('-f, --file <file>', `${what} ("-": standard input)`)
        .option('-c, --concurrency <n>', 'items the server handles at once, 1-32 (default 8)'),
    ).action((options: BatchOptions) =>
      runCliAction(`runs ${name}`, io, setExit, async () => {
        const text = options.file === '-' ? await readStdin() : await readFile(options.file, 'utf8');
        const results = await run(remoteClient(options), text, parseCount(options.concurrency, '--concurrency'));
        if (options.json) io.out(`${JSON.stringify({ results: results.map(({ key, result }) => (result.run ? { run: result.run } : { key, error: { code: result.error.code, message: result.error.message } })) }, null, 2)}\n`);
        else for (const { key, result } of results) io.out(result.run ? `${printable(result.run.runId)}  ${result.run.status}\n` : `${printable(key)}  error: ${printable(describeError(result.error))}\n`);
        return results.some(({ result }) => result.error) ? 1 : 0;
      }),
    );
  };

  batch('batch-start', 'start many runs from a file of start requests', 'JSON array, or one JSON object per line: {flowId, input?, label?, tags?, …}', async (client, text, concurrency) => {
    const requests = parseStartRequests(text);
    const out: { key: string; result: BatchResult }[] = [];
    for (const chunk of chunks(requests)) {
      const results = await client.batchRunFlows({ runs: chunk, ...(concurrency ? { concurrency } : {}) });
      results.forEach((result, i) => out.push({ key: `#${out.length + 1} ${chunk[i]!.flowId}`, result }));
    }
    return out;
  });

  for (const [name, verb] of [['batch-get', 'read'], ['batch-cancel', 'cancel']] as const) {
    batch(name, `${verb} many runs from a file of run ids`, 'run ids, one per line, or a JSON array', async (client, text, concurrency) => {
      const out: { key: string; result: BatchResult }[] = [];
      for (const runIds of chunks(parseRunIds(text))) {
        const options = { runIds, ...(concurrency ? { concurrency } : {}) };
        const results = name === 'batch-get' ? await client.batchGetRuns(options) : await client.batchCancelRuns(options);
        for (const result of results) out.push({ key: result.runId, result });
      }
      return out;
    });
  }
}

/** Start requests as a JSON array or JSON lines; the client checks each one's fields. */
export function parseStartRequests(text: string): RunFlowOptions[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError('the file holds no start requests');
  const items: unknown = trimmed.startsWith('[') ? parseJson(trimmed, 'the file') : trimmed.split('\n').flatMap((line, i) => (line.trim() === '' ? [] : [parseJson(line, `line ${i + 1}`)]));
  if (!Array.isArray(items)) throw new UsageError('the file must hold a JSON array or one JSON object per line');
  items.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || typeof (item as { flowId?: unknown }).flowId !== 'string') throw new UsageError(`start request ${i + 1} must be an object with a flowId`);
  });
  return items as RunFlowOptions[];
}

/** Run ids, one per line (blank lines and `#` comments skipped) or a JSON array of strings. */
export function parseRunIds(text: string): string[] {
  const trimmed = text.trim();
  const ids: unknown = trimmed.startsWith('[')
    ? parseJson(trimmed, 'the file')
    : trimmed.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || id === '')) throw new UsageError('the file must hold run ids, one per line, or a JSON array of them');
  if (ids.length === 0) throw new UsageError('the file holds no run ids');
  return ids as string[];
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${where} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH_LIMIT) out.push(items.slice(i, i + BATCH_LIMIT));
  return out;
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of process.stdin) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
