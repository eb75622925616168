/**
 * The module boundaries of STYLE.md, checked on the source: a change that crosses one fails here.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

interface SourceFile {
  path: string; // relative to src, with forward slashes
  text: string;
  /** The text without comments, for checks on code. */
  code: string;
  imports: string[]; // module specifiers
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const files: SourceFile[] = walk(src).map((full) => {
  const text = readFileSync(full, 'utf8');
  const imports = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return { path: relative(src, full).split('\\').join('/'), text, code, imports };
});

/** The dashboard's sources (paths relative to the repository). */
const dashboardFiles: SourceFile[] = walkAll(join(root, 'dashboard')).map((full) => {
  const text = readFileSync(full, 'utf8');
  const imports = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)].map((m) => (m[1] ?? m[2] ?? m[3])!);
  return { path: relative(root, full).split('\\').join('/'), text, code: text, imports };
});

function walkAll(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walkAll(full) : /\.tsx?$/.test(full) ? [full] : [];
  });
}

/** Where a relative import lands, relative to src; null for packages and node builtins. */
function target(file: SourceFile, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return relative(src, resolve(join(src, dirname(file.path)), specifier)).split('\\').join('/');
}

const production = (f: SourceFile): boolean => !f.path.endsWith('.test.ts') && !f.path.endsWith('.conformance.ts');
// @standard-schema/spec is types only: flows and modules accept any Standard Schema (zod, …).
// zod holds the one shape of a flow definition (validation/flow-shape.ts), which the validator
// checks and the editors' JSON Schema is generated from.
const CORE_PACKAGES = ['jsep', '@jsep-plugin/object', 'jsonpath-plus', '@cfworker/json-schema', '@standard-schema/spec', 'zod', 'croner'];

describe('architecture', () => {
  it('finds the source files it checks', () => {
    expect(files.filter((f) => f.path.startsWith('core/')).length).toBeGreaterThan(10);
  });

  it('keeps core free of anything outside core: no node:*, SQL, HTTP, clock or process', () => {
    const offenders: string[] = [];
    for (const file of files.filter((f) => f.path.startsWith('core/') && production(f))) {
      for (const spec of file.imports) {
        const to = target(file, spec);
        if (to !== null && !to.startsWith('core/')) offenders.push(`${file.path} imports ${spec}`);
        if (to === null && !CORE_PACKAGES.includes(spec)) offenders.push(`${file.path} imports package ${spec}`);
      }
      if (/\bDate\.now\(|new Date\(\)/.test(file.code)) offenders.push(`${file.path} reads the wall clock`);
      if (/\bprocess\./.test(file.code)) offenders.push(`${file.path} touches process`);
      if (/\beval\(|new Function\(|\bFunction\(/.test(file.code)) offenders.push(`${file.path} evaluates code`);
      if (/Math\.random\(/.test(file.code)) offenders.push(`${file.path} makes randomness`);
    }
    expect(offenders).toEqual([]);
  });

  it('lets stores import only core and their own folder; sqlite and postgres never import each other', () => {
    const offenders: string[] = [];
    for (const file of files.filter((f) => f.path.startsWith('store/') && production(f))) {
      const own = file.path.split('/').slice(0, -1).join('/');
      for (const spec of file.imports) {
        const to = target(file, spec);
        if (to === null) continue;
        const allowed = to.startsWith('core/') || to.startsWith(`${own}/`) || /^store\/[^/]+$/.test(to);
        if (!allowed) offenders.push(`${file.path} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('keeps the flow language a front end: dsl imports only the core model and its validation', () => {
    // compileFlow validates what it compiles (validateFlow) so a mistake in an expression gets a line number.
    // It also shares the validator's did-you-mean, so a misspelt keyword is suggested as a misspelt step id is,
    // and its keyed messages, which each language's table translates.
    const allowed = ['core/model.ts', 'core/model.js', 'core/validation/validate-flow.ts', 'core/validation/validate-flow.js', 'core/validation/did-you-mean.ts', 'core/validation/did-you-mean.js', 'core/validation/messages.ts', 'core/validation/messages.js'];
    const offenders: string[] = [];
    for (const file of files.filter((f) => f.path.startsWith('dsl/') && production(f))) {
      for (const spec of file.imports) {
        const to = target(file, spec);
        if (to === null) offenders.push(`${file.path} imports package ${spec}`);
        else if (!to.startsWith('dsl/') && !allowed.includes(to)) offenders.push(`${file.path} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('keeps model adapters at the edge: only model-resolvers imports the AI SDK, and it imports only core types', () => {
    const offenders: string[] = [];
    for (const file of files.filter(production)) {
      const inAdapters = file.path.startsWith('model-resolvers/');
      for (const spec of file.imports) {
        if (!inAdapters && (spec === 'ai' || spec.startsWith('ai/') || spec.startsWith('@ai-sdk/'))) offenders.push(`${file.path} imports ${spec}`);
        const to = target(file, spec);
        if (inAdapters && to !== null && !to.startsWith('core/') && !to.startsWith('model-resolvers/')) offenders.push(`${file.path} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('keeps OpenTelemetry at the edge: only tracing/ imports @opentelemetry/* (an optional peer), and core only its own interface', () => {
    // core/tracing.ts is what the engine asks of a tracer; tracing/open-telemetry-tracing.ts loads the API or does without it.
    const offenders = files
      .filter((f) => production(f) && !f.path.startsWith('tracing/'))
      .flatMap((f) => f.imports.filter((spec) => spec.startsWith('@opentelemetry/')).map((spec) => `${f.path} imports ${spec}`));
    expect(offenders).toEqual([]);
  });

  it('keeps the client web-standard: only types from the rest (and core errors, rebuilt from codes), fetch only, no Node', () => {
    // The client rebuilds the engine's own error classes from a response's code, so `instanceof`
    // and `err.code` read alike in-process and over HTTP; core/errors.ts imports nothing.
    const runtimeAllowed = ['core/errors.js', 'core/errors.ts'];
    const packages = ['eventsource-parser'];
    const offenders: string[] = [];
    for (const file of files.filter((f) => f.path.startsWith('client/') && production(f))) {
      for (const m of file.code.matchAll(/\b(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = (m[3] ?? m[4])!;
        const typeOnly = m[2] !== undefined;
        const to = target(file, spec);
        if (to === null) {
          if (!packages.includes(spec)) offenders.push(`${file.path} imports package ${spec}`);
        } else if (!to.startsWith('client/') && !typeOnly && !runtimeAllowed.includes(to)) {
          offenders.push(`${file.path} imports ${spec} at run time`);
        }
      }
      if (/\bprocess\.|\bBuffer\b|\brequire\(/.test(file.code)) offenders.push(`${file.path} uses a Node-only global`);
    }
    expect(offenders).toEqual([]);
  });

  it('keeps the server a fetch handler: core and its own folder only, Node listening in listen.ts alone', () => {
    // Everything but listen.ts runs on any runtime with fetch (Next.js, Bun, Deno, edge):
    // no node:* imports, no Node globals, no stores (they come in through the engine).
    const packages = ['hono', '@hono/zod-openapi', 'zod'];
    const offenders: string[] = [];
    for (const file of files.filter((f) => f.path.startsWith('server/') && production(f))) {
      const isListen = file.path === 'server/listen.ts';
      for (const spec of file.imports) {
        const to = target(file, spec);
        if (to === null) {
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          const allowed = packages.includes(pkg) || (isListen && (pkg === '@hono/node-server' || spec === 'node:net' || spec === 'node:http' || spec === 'node:https'));
          if (!allowed) offenders.push(`${file.path} imports package ${spec}`);
        } else if (!to.startsWith('server/') && !to.startsWith('core/')) offenders.push(`${file.path} imports ${spec}`);
      }
      // api-tokens.ts may ask for node:crypto through `process?.getBuiltinModule`, with a Web Crypto fallback.
      const code = file.code.replace(/\.process\?\.getBuiltinModule\?\./g, '');
      if (!isListen && /\bBuffer\b|\brequire\(|\bprocess\./.test(code)) offenders.push(`${file.path} uses Node directly`);
    }
    expect(offenders).toEqual([]);
  });

  it('reads argv and the environment only in the CLI', () => {
    // The one exception: seed 002's developmentOnly option is defined as refusing to open under
    // NODE_ENV=production, so createFilesystemStores itself has to read it.
    const allowed = new Set(['store/sqlite/create-filesystem-stores.ts']);
    const offenders = files
      .filter((f) => production(f) && !f.path.startsWith('cli/') && !allowed.has(f.path) && /process\.(argv|env)\b/.test(f.code))
      .map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('has no import cycles inside src (type-only imports included)', () => {
    const graph = new Map<string, string[]>();
    const known = new Set(files.map((f) => f.path));
    for (const file of files.filter(production)) {
      const deps = file.imports.map((spec) => target(file, spec)).filter((to): to is string => to !== null).map((to) => to.replace(/\.js$/, '.ts'));
      graph.set(file.path, [...new Set(deps.filter((to) => known.has(to)))]);
    }
    expect(importCycles(graph).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('keeps the engine rooms to the imports their opening comments allow', () => {
    // Each room of src/core/engine says in its main file which other rooms it may import; all may
    // import core and the engine's contracts beside engine.ts (engine-core.ts, types.ts).
    const rooms: Record<string, string[]> = {
      access: [],
      start: ['access'],
      calls: ['start', 'steps'],
      steps: ['calls', 'governance', 'live'],
      governance: ['steps', 'access', 'events'],
      events: ['access', 'start', 'steps'],
      live: ['start', 'calls'],
      execution: ['start', 'steps', 'calls', 'events'],
      schedules: ['access', 'start'],
    };
    const contracts = ['core/engine/engine-core.ts', 'core/engine/types.ts', 'core/engine/engine-observer.ts'];
    const offenders: string[] = [];
    const roomOf = (path: string): string | null => /^core\/engine\/([^/]+)\//.exec(path)?.[1] ?? null;
    for (const file of files.filter((f) => production(f) && f.path.startsWith('core/engine/'))) {
      const room = roomOf(file.path);
      if (room === null) continue;
      if (!(room in rooms)) offenders.push(`${file.path}: core/engine/${room}/ is not a known room (add it here and to engine.ts)`);
      for (const spec of file.imports) {
        const to = target(file, spec)?.replace(/\.js$/, '.ts');
        if (!to?.startsWith('core/engine/') || contracts.includes(to)) continue;
        const toRoom = roomOf(to);
        if (toRoom === room) continue;
        if (toRoom === null || !rooms[room]?.includes(toRoom)) offenders.push(`${file.path} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('has no grab-bag modules', () => {
    expect(files.filter((f) => /(^|\/)(utils|helpers|misc)\.ts$/.test(f.path)).map((f) => f.path)).toEqual([]);
  });

  it('keeps source files under 500 lines (STYLE: split past ~400)', () => {
    const long = [...files, ...dashboardFiles].filter((f) => production(f) && f.text.split("\n").length > 500).map((f) => `${f.path}: ${f.text.split('\n').length}`);
    expect(long).toEqual([]);
  });

  it('keeps the dashboard a client of the HTTP API: of src/ it imports flowrun/client alone', () => {
    // The dashboard shows what a token may see only if everything it shows comes through the API.
    const packages = ['react', 'react-dom', 'wouter', '@xyflow/react', 'dagre', 'vite', 'vitest'];
    const offenders: string[] = [];
    expect(dashboardFiles.length).toBeGreaterThan(5);
    for (const file of dashboardFiles.filter(production)) {
      for (const spec of file.imports) {
        if (!spec.startsWith('.')) {
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!packages.includes(pkg) && !spec.startsWith('node:')) offenders.push(`${file.path} imports package ${spec}`);
          continue;
        }
        const to = relative(root, resolve(join(root, dirname(file.path)), spec)).split('\\').join('/');
        if (!to.startsWith('dashboard/') && to !== 'src/client/index.js') offenders.push(`${file.path} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});


/** Every import cycle of the graph, each as the files along it with its first file repeated last (Tarjan's strongly connected components). */
function importCycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)?.includes(node)) cycles.push(cyclePath(graph, new Set(component), node));
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}

/** One cycle through `start` inside a strongly connected component, found by breadth-first search. */
function cyclePath(graph: Map<string, string[]>, component: Set<string>, start: string): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    for (const to of graph.get(node) ?? []) {
      if (!component.has(to)) continue;
      if (to === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}
