/** `flowrun run` in this process: what `--quiet` prints when the run fails. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

describe('flowrun run --quiet', () => {
  it('prints the error on stderr when the run fails, and nothing on stdout', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flowrun-quiet-')), 'refuse.flow');
    writeFileSync(file, 'machine refuse\n  implements\n    fail NOT_TODAY, "try again tomorrow"\n');
    let out = '';
    let err = '';
    const code = await main(['run', file, '--quiet', '--store', 'memory'], { out: (t) => void (out += t), err: (t) => void (err += t), isTty: false });
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe('FAILED NOT_TODAY: try again tomorrow\n');
  });
});
