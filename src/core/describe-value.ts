/**
 * How a validation issue names its bad value and where that value sits, shared by definition
 * validation and input binding so every message reads the same way.
 */

/**
 * Renders a value for a message: JSON, shortened past 60 characters (`"x"`, `42`, `{"a":1}`, `undefined`).
 */
export function describeValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) text = typeof value === 'function' || typeof value === 'symbol' ? `a ${typeof value}` : 'undefined';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Appends `key` to an issue path: `base.key`, or `base["odd key"]` when the key is not a plain name. */
export function joinPath(base: string, key: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}
