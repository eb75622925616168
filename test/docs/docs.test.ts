/**
 * The documentation a user reads: every relative link of README.md and docs/ resolves (file and
 * heading) inside the repository, every code block marked `runnable` runs, and docs/http-api.md
 * is what scripts/http-api-doc.ts generates from the router's OpenAPI document.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readOpenApiDocument, renderHttpApiDoc } from '../../scripts/http-api-doc.js';

const root = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

function markdownFiles(): string[] {
  const docs = join(root, 'docs');
  return [join(root, 'README.md'), ...readdirSync(docs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.md')).map((f) => join(docs, f))];
}

/** The text outside fenced code blocks (links inside code are examples, not links). */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchors of a Markdown file's headings. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of text.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const plain = heading!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = plain.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    result.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return result;
}

describe('the documentation', () => {
  it('links only to files and headings that exist inside the repository', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(file, 'utf8');
      if (text.includes('../shared/')) broken.push(`${relative(root, file)}: mentions ../shared/, which users do not have`);
      for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const to = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        const where = `${relative(root, file)} → ${target}`;
        if (relative(root, to).startsWith('..')) broken.push(`${where}: outside the repository`);
        else if (!existsSync(to)) broken.push(`${where}: no such file`);
        else if (anchor && to.endsWith('.md') && statSync(to).isFile() && !anchors(readFileSync(to, 'utf8')).has(anchor)) broken.push(`${where}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('has an index that links every page of docs/', () => {
    const index = readFileSync(join(root, 'docs/README.md'), 'utf8');
    const pages = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(pages.filter((page) => !index.includes(`](${page})`))).toEqual([]);
  });

  it('keeps docs/http-api.md as the OpenAPI document generates it (npm run docs:api)', async () => {
    const expected = renderHttpApiDoc(await readOpenApiDocument());
    expect(readFileSync(join(root, 'docs/http-api.md'), 'utf8')).toBe(expected);
  });

  const blocks = markdownFiles().flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/^```(ts|bash) runnable\n([\s\S]*?)^```/gm)].map((m, i) => ({ name: `${relative(root, file)} #${i + 1} (${m[1]})`, language: m[1]!, code: m[2]! })),
  );

  it('marks some code blocks as runnable', () => {
    expect(blocks.length).toBeGreaterThan(3);
  });

  it.each(blocks)('runs $name', async ({ language, code }) => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-docs-'));
    const env = { ...process.env, NO_COLOR: '1' };
    if (language === 'ts') {
      // The package's own name, pointed at the sources (tests need no build).
      const entry: Record<string, string> = { flowrun: 'src/index.ts', 'flowrun/client': 'src/client/index.ts', 'flowrun/server': 'src/server/index.ts', 'flowrun/testing': 'src/testing/index.ts' };
      const source = code.replace(/from '(flowrun(?:\/[a-z-]+)?)'/g, (whole, name: string) => (entry[name] ? `from '${join(root, entry[name])}'` : whole));
      writeFileSync(join(dir, 'example.mts'), source);
      await run(process.execPath, ['--import', 'tsx', join(dir, 'example.mts')], { cwd: root, env, timeout: 60_000 });
    } else {
      const script = code.replace(/\bnpx flowrun\b/g, `${process.execPath} --import tsx test/support/flowrun-cli.ts`);
      await run('bash', ['-euo', 'pipefail', '-c', script], { cwd: root, env, timeout: 60_000 });
    }
  });
});
