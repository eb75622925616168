/**
 * `--modules FILE` of `run` and `serve`: a JavaScript (or TypeScript) module whose exports (or
 * default export) map module identifiers to functions.
 */
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FlowError } from '../core/errors.js';
import type { Module } from '../core/engine/types.js';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/**
 * Imports `path` and returns its functions by export name. A TypeScript file is imported through
 * tsx when Node cannot import it itself (tsx installed beside flowrun). Throws INVALID_INPUT saying
 * what to do when the file cannot be imported or exports no function.
 */
export async function loadModules(path: string): Promise<Record<string, Module>> {
  const url = pathToFileURL(resolve(path)).href;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if (!TYPESCRIPT.has(extname(path)) || (error as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new FlowError('INVALID_INPUT', `--modules ${path} cannot be imported: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    loaded = await importTypeScript(path, url);
  }
  let table = (isObject(loaded.default) ? loaded.default : loaded) as Record<string, unknown>;
  // A TypeScript file compiled as CommonJS (no "type": "module" beside it) nests its default export once more.
  if (isObject(table.default) && !Object.values(table).some((v) => typeof v === 'function')) table = table.default;
  const modules: Record<string, Module> = {};
  for (const [name, fn] of Object.entries(table)) {
    if (typeof fn === 'function') modules[name] = fn as Module;
  }
  if (Object.keys(modules).length === 0) {
    throw new FlowError('INVALID_INPUT', `--modules ${path} exports no function: export them by module identifier, e.g. export default { 'billing/charge': async (input, ctx) => ({ charged: true }) }`);
  }
  return modules;
}

/** Imports a TypeScript file with tsx's `tsImport` (no global hooks), or says how to make it importable. */
async function importTypeScript(path: string, url: string): Promise<Record<string, unknown>> {
  // A variable specifier: tsx is optional, so its types are not needed to build flowrun.
  const tsxApi = 'tsx/esm/api';
  let tsImport: (specifier: string, parentURL: string) => Promise<unknown>;
  try {
    ({ tsImport } = (await import(tsxApi)) as { tsImport: typeof tsImport });
  } catch {
    throw new FlowError(
      'INVALID_INPUT',
      `--modules ${path}: this Node cannot import TypeScript by itself. Install tsx (npm i -D tsx) and flowrun imports it through tsx; or compile it to JavaScript and pass the .js file; or run flowrun with node --import tsx`,
    );
  }
  return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
