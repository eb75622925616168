/**
 * Reading flow definitions from files for the CLI. `.json` files hold one FlowDefinition; `.flow`
 * files hold one machine of the flow language, compiled here.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { FlowError } from '../core/errors.js';
import type { FlowDefinition, FlowSourceText } from '../core/model.js';
import { compileFlow, programLanguage, type Diagnostic } from '../dsl/compile-flow.js';

const FLOW_EXTENSIONS = ['.json', '.flow'];

/** A flow source read from a file: the parsed or compiled definition, or the compiler's diagnostics. */
export interface FlowSource {
  path: string;
  definition?: unknown;
  diagnostics?: Diagnostic[];
  /** A `.flow` file's text and name, which a deploy keeps with the version. */
  source?: FlowSourceText;
  /** A `.flow` file's text, compiled or not (for showing the lines of its problems). */
  programText?: string;
  /** A compiled `.flow` file's language, which `check` speaks. */
  language?: string;
}

/** One diagnostic as the CLI prints it: `file:line:column: message`, then the English one if it differs. */
export function formatDiagnostic(path: string, d: Diagnostic): string {
  const english = d.localizedMessage !== d.message ? `\n  (en) ${d.message}` : '';
  return `${path}:${d.line}:${d.column}: ${d.localizedMessage}${english}`;
}

/**
 * Reads one flow file. `.flow` programs are compiled (their steps' `source` names the file); a
 * program that does not compile comes back with its diagnostics. Throws FLOW_NOT_FOUND for an
 * unreadable file and INVALID_DEFINITION for bad JSON or an unknown extension.
 */
export async function readFlowSource(path: string): Promise<FlowSource> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FlowError('FLOW_NOT_FOUND', `cannot read ${path}: ${(error as Error).message}`);
  }
  if (extname(path) === '.flow') {
    const result = compileFlow(text, { file: basename(path) });
    return result.ok ? { path, definition: result.flow, source: { fileName: basename(path), text }, programText: text, language: programLanguage(text) } : { path, diagnostics: result.diagnostics, programText: text };
  }
  if (extname(path) !== '.json') throw new FlowError('INVALID_DEFINITION', `${path}: flow files are .json or .flow`);
  try {
    const definition = JSON.parse(text) as unknown;
    // `$schema` points an editor at flowrun/flow.schema.json; it is not part of the flow.
    if (typeof definition === 'object' && definition !== null && !Array.isArray(definition) && '$schema' in definition) {
      const { $schema: _editor, ...flow } = definition as Record<string, unknown>;
      return { path, definition: flow };
    }
    return { path, definition };
  } catch (error) {
    throw new FlowError('INVALID_DEFINITION', `${path}: not valid JSON: ${(error as Error).message}`);
  }
}

/** A flow read from a file (not yet validated). */
export interface FlowFile {
  path: string;
  definition: unknown;
  /** For a `.flow` file: its text and name, kept with the deployed version. */
  source?: FlowSourceText;
}

/** Reads one flow file (`.json`, or `.flow` compiled); throws INVALID_DEFINITION naming the file and every diagnostic. */
export async function readFlowFile(path: string): Promise<FlowFile> {
  const source = await readFlowSource(path);
  if (source.diagnostics) {
    throw new FlowError('INVALID_DEFINITION', `${path} does not compile:\n${source.diagnostics.map((d) => formatDiagnostic(path, d)).join('\n')}`);
  }
  return { path, definition: source.definition, ...(source.source ? { source: source.source } : {}) };
}

/** The other flow files in the folder of `path` (the flows it may call). */
export async function readSiblingFlowFiles(path: string): Promise<FlowFile[]> {
  const folder = dirname(resolve(path));
  const names = (await readdir(folder)).filter((n) => FLOW_EXTENSIONS.includes(extname(n)) && join(folder, n) !== resolve(path)).sort();
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
