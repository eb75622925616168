import { describe, expect, it } from 'vitest';
import { FlowError } from '../core/errors.js';
import { createLineLogger } from './line-logger.js';

describe('createLineLogger', () => {
  it('writes one JSON line per entry at or above its level, errors as name, code, message', () => {
    const lines: string[] = [];
    const logger = createLineLogger({ write: (line) => lines.push(line), level: 'warn', now: () => Date.UTC(2026, 0, 1) });
    logger.info({ runId: 'r1' }, 'dropped');
    logger.warn({ err: new FlowError('LEASE_LOST', 'lease lost'), runId: 'r1' }, 'lease lost');
    logger.error({ err: new TypeError('bug') }, 'request failed');
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({ level: 'warn', time: '2026-01-01T00:00:00.000Z', msg: 'lease lost', runId: 'r1', err: { name: 'FlowError', code: 'LEASE_LOST', message: 'lease lost' } });
    expect(JSON.parse(lines[1]!).err).toMatchObject({ name: 'TypeError', message: 'bug', stack: expect.stringContaining('TypeError: bug') });
  });

  it('never throws on a field it cannot serialize', () => {
    const lines: string[] = [];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    createLineLogger({ write: (line) => lines.push(line) }).error({ cyclic, n: 1n }, 'odd');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', msg: 'odd' });
  });
});

describe('createLineLogger formats', () => {
  it('censors fields named like credentials, at the top and one object down', () => {
    const lines: string[] = [];
    createLineLogger({ write: (line) => lines.push(line) }).info({ token: 'frt_secret', headers: { authorization: 'Bearer frt_secret' }, runId: 'r1' }, 'odd');
    expect(lines.join('')).not.toContain('frt_secret');
    expect(JSON.parse(lines[0]!)).toMatchObject({ token: '[redacted]', headers: { authorization: '[redacted]' }, runId: 'r1' });
  });

  it('writes human lines with the pretty format', () => {
    const lines: string[] = [];
    createLineLogger({ write: (line) => lines.push(line), format: 'pretty' }).warn({ runId: 'r1' }, 'lease lost');
    expect(lines.join('')).toMatch(/WARN.*lease lost/);
    expect(lines.join('')).toContain('runId: "r1"');
    expect(() => JSON.parse(lines[0]!)).toThrow();
  });
});
