/**
 * `--modules FILE` of `run` and `serve`: a JavaScript module whose exports (or default export)
 * map module identifiers to functions.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Module } from '../core/engine/types.js';

/** Imports `path` and returns its functions by export name. */
export async function loadModules(path: string): Promise<Record<string, Module>> {
  const loaded = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  const table = (typeof loaded.default === 'object' && loaded.default !== null ? loaded.default : loaded) as Record<string, unknown>;
  const modules: Record<string, Module> = {};
  for (const [name, fn] of Object.entries(table)) {
    if (typeof fn === 'function') modules[name] = fn as Module;
  }
  return modules;
}
