/**
 * Reading flow definitions from files for the CLI. `.json` files hold one FlowDefinition.
 */
import { readFile, readdir } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { FlowError } from '../core/errors.js';
import type { FlowDefinition } from '../core/model.js';

/** A flow read from a file (not yet validated). */
export interface FlowFile {
  path: string;
  definition: unknown;
}

/** Reads and parses one flow file; throws INVALID_DEFINITION naming the file for bad JSON. */
export async function readFlowFile(path: string): Promise<FlowFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FlowError('FLOW_NOT_FOUND', `cannot read ${path}: ${(error as Error).message}`);
  }
  if (extname(path) !== '.json') throw new FlowError('INVALID_DEFINITION', `${path}: flow files are .json`);
  try {
    return { path, definition: JSON.parse(text) as unknown };
  } catch (error) {
    throw new FlowError('INVALID_DEFINITION', `${path}: not valid JSON: ${(error as Error).message}`);
  }
}

/** The other flow files in the folder of `path` (the flows it may call). */
export async function readSiblingFlowFiles(path: string): Promise<FlowFile[]> {
  const folder = dirname(resolve(path));
  const names = (await readdir(folder)).filter((n) => extname(n) === '.json' && join(folder, n) !== resolve(path)).sort();
  const files: FlowFile[] = [];
  for (const name of names) {
    try {
      files.push(await readFlowFile(join(folder, name)));
    } catch {
      // Not a flow (or unreadable): siblings are a convenience, not an input.
    }
  }
  return files;
}

/** True when the parsed JSON looks like a flow definition (has `id` and `actions`). */
export function looksLikeFlow(value: unknown): value is FlowDefinition {
  return typeof value === 'object' && value !== null && 'id' in value && 'actions' in value;
}
