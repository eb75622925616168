/**
 * Loading flow versions for execution. Versions are immutable, so a version once read is cached
 * for the life of the engine; selectors (`LATEST_PUBLISHED`, none) are resolved on every call.
 */
import type { Clock } from '../clock.js';
import { NotFoundError } from '../errors.js';
import { LATEST_PUBLISHED, type FlowDefinition, type FlowVersionRecord } from '../model.js';
import type { Store } from '../store.js';
import { parseVersion } from './step-runner.js';

/** A cache of flow versions in front of the store. */
export class FlowCache {
  readonly #cache = new Map<string, FlowVersionRecord>();
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
    const found =
      selector === undefined
        ? ((await this.#store.getFlowVersion(flowId, LATEST_PUBLISHED)) ?? (await this.#store.getFlowVersion(flowId, 'LATEST')))
        : await this.#store.getFlowVersion(flowId, selector);
    if (!found) {
      throw new NotFoundError('FLOW_NOT_FOUND', selector === LATEST_PUBLISHED ? `flow "${flowId}" has no published version` : `flow "${flowId}" is not deployed`);
    }
    this.#cache.set(`${flowId}@${found.version}`, found);
    return found;
  }

  /** Stores a validated definition as a version (an identical one returns the existing version). */
  async save(flow: FlowDefinition, deployedBy: string): Promise<FlowVersionRecord> {
    const record = await this.#store.saveFlowVersion({ definition: flow, deployedBy, at: this.#clock.now() });
    this.#cache.set(`${record.flowId}@${record.version}`, record);
    return record;
  }
}
