/**
 * Loading flow versions for execution. Versions are immutable, so a version once read is cached
 * for the life of the engine. What a selector (`LATEST_PUBLISHED`, none) means changes when a
 * version is deployed or published: this engine's own deploys and publishes take effect at once,
 * those of other processes over the same store within {@link SELECTOR_CACHE_MS}.
 */
import type { Clock } from '../../clock.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { LATEST_PUBLISHED, type FlowDefinition, type FlowSourceText, type FlowVersionRecord } from '../../model.js';
import type { Store } from '../../store.js';

/** How long a resolved selector is reused before the store is asked again. */
export const SELECTOR_CACHE_MS = 1000;

/** A cache of flow versions in front of the store. */
export class FlowCache {
  readonly #cache = new Map<string, FlowVersionRecord>();
  readonly #selectors = new Map<string, { record: FlowVersionRecord; until: number }>();
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(options: { store: Store; clock: Clock }) {
    this.#store = options.store;
    this.#clock = options.clock;
  }

  /**
   * A flow version by number or selector; with no version, the published one, else the latest.
   * Throws FLOW_NOT_FOUND.
   */
  async load(flowId: string, version?: number | string): Promise<FlowVersionRecord> {
    const selector = parseVersion(version);
    if (typeof selector === 'number') {
      const key = `${flowId}@${selector}`;
      const cached = this.#cache.get(key);
      if (cached) return cached;
      const found = await this.#store.getFlowVersion(flowId, selector);
      if (!found) throw new NotFoundError('FLOW_NOT_FOUND', `flow "${flowId}" has no version ${selector}`);
      this.#cache.set(key, found);
      return found;
    }
    const selectorKey = `${flowId}@${selector ?? ''}`;
    const resolved = this.#selectors.get(selectorKey);
    if (resolved && resolved.until > this.#clock.now()) return resolved.record;
    const found =
      selector === undefined
        ? ((await this.#store.getFlowVersion(flowId, LATEST_PUBLISHED)) ?? (await this.#store.getFlowVersion(flowId, 'LATEST')))
        : await this.#store.getFlowVersion(flowId, selector);
    if (!found) {
      throw new NotFoundError('FLOW_NOT_FOUND', selector === LATEST_PUBLISHED ? `flow "${flowId}" has no published version` : `flow "${flowId}" is not deployed`);
    }
    this.#cache.set(`${flowId}@${found.version}`, found);
    this.#selectors.set(selectorKey, { record: found, until: this.#clock.now() + SELECTOR_CACHE_MS });
    return found;
  }

  /** A version of the flow was deployed or published here: resolve its selectors again. */
  forget(flowId: string): void {
    for (const key of this.#selectors.keys()) if (key.startsWith(`${flowId}@`)) this.#selectors.delete(key);
  }

  /** Stores a validated definition as a version (an identical one returns the existing version). */
  async save(flow: FlowDefinition, deployedBy: string, source?: FlowSourceText): Promise<FlowVersionRecord> {
    const record = await this.#store.saveFlowVersion({ definition: flow, deployedBy, at: this.#clock.now(), ...(source !== undefined ? { source } : {}) });
    this.#cache.set(`${record.flowId}@${record.version}`, record);
    this.forget(record.flowId);
    return record;
  }
}
/** Parses a `flowVersion` value: a number, a numeric string, `LATEST_PUBLISHED` or `LATEST`. */
export function parseVersion(value: unknown): number | 'LATEST_PUBLISHED' | 'LATEST' | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'LATEST_PUBLISHED' || value === 'LATEST') return value;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (Number.isInteger(n) && n >= 1) return n;
  throw new ValidationError('INVALID_INPUT', [{ path: 'flowVersion', message: `must be a version number, LATEST_PUBLISHED or LATEST, got ${JSON.stringify(value)}` }]);
}
