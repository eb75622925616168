/**
 * The registry of sealed values: plain JSON data (objects, arrays and what they hold) that
 * sealJson (seal-json.ts) copied once where it entered the engine, froze deeply and measured.
 * Nothing can change a sealed value, so copies share it instead of copying it again (cloneJson)
 * and its size is known without walking it (jsonSize): a run's 1 MiB input costs one walk per
 * run, not one per copy, read or budget check. Only values of at least a kilobyte are registered
 * (the parts below them are frozen too, and reached through them).
 *
 * Kept apart from seal-json.ts so the modules that only read the registry (json.ts, json-size.ts,
 * params.ts) do not depend on the one that walks values.
 */

/** Room in a packed entry for a height: every sealed value is at most MAX_WALKED_DEPTH (1000) levels high. */
const HEIGHT_ROOM = 1024;

/** Per sealed object or array: its JSON size in bytes and its height, packed as `size * HEIGHT_ROOM + height`. */
const sealed = new WeakMap<object, number>();

/**
 * Registers `value` as sealed: the caller froze it and everything it holds, which is plain data
 * with no `undefined` anywhere (what JSON would write, exactly). `size` is its JSON size in
 * UTF-8 bytes; `height` the levels of objects and arrays it spans (1 for `{}`).
 */
export function markSealed(value: object, size: number, height: number): void {
  sealed.set(value, size * HEIGHT_ROOM + height);
}

/** True for a value registered by {@link markSealed}: immutable, so it may be shared. */
export function isSealed(value: unknown): boolean {
  return typeof value === 'object' && value !== null && sealed.has(value);
}

/** The JSON size in bytes of a sealed value; undefined for any other. */
export function sealedSize(value: object): number | undefined {
  const packed = sealed.get(value);
  return packed === undefined ? undefined : Math.floor(packed / HEIGHT_ROOM);
}

/** The height (levels of objects and arrays) of a sealed value; undefined for any other. */
export function sealedHeight(value: object): number | undefined {
  const packed = sealed.get(value);
  return packed === undefined ? undefined : packed % HEIGHT_ROOM;
}

/** Getters of sealed objects whose value is sealed data built when first read (sealed-text.ts). */
const lazyMembers = new WeakSet<() => unknown>();

/**
 * Registers `get` as the getter of a member of a sealed object that is data, built the first time
 * it is read and the same value every time after: expressions read it as they read a data property
 * (a getter of anyone else's reads as `undefined` there).
 */
export function markLazyMember(get: () => unknown): void {
  lazyMembers.add(get);
}

/** True for a getter registered by {@link markLazyMember}. */
export function isLazyMember(get: unknown): boolean {
  return typeof get === 'function' && lazyMembers.has(get as () => unknown);
}
