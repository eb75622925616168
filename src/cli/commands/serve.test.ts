import { describe, expect, it } from 'vitest';
import { withoutPassword } from './serve.js';

describe('flowrun serve', () => {
  it('never prints the password of a connection string', () => {
    expect(withoutPassword('postgres://flowrun:s3cret@db:5432/app?schema=x')).toBe('postgres://flowrun:***@db:5432/app?schema=x');
    expect(withoutPassword('postgresql://u:p%40ss@db/app')).toBe('postgresql://u:***@db/app');
    expect(withoutPassword('postgres://db/app')).toBe('postgres://db/app');
    expect(withoutPassword('sqlite:.flowrun')).toBe('sqlite:.flowrun');
  });
});
