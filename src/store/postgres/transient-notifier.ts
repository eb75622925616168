/**
 * Transient changes over NOTIFY, in order and whole. Before, NOTIFY payloads stopped at 8000
 * bytes (an output snapshot or a streamed ASK text soon passes that, and every later update was
 * dropped), and each change went out on whichever pooled connection was free, so updates of one
 * item could arrive out of order.
 *
 * Here changes queue in the order they are published and go out in batches, one statement (one
 * transaction) at a time, so listeners get them in that order. A change larger than a payload is
 * cut into parts (`<messageId> <index> <count> <text>`; the parts of one message are sent in one
 * transaction, and PostgreSQL delivers a transaction's notifications together, in order) that
 * {@link TransientReassembler} joins again. Message ids are unique per publisher, so no two
 * payloads are ever identical (PostgreSQL delivers identical payloads of one transaction once). Bounds: a change larger than {@link MAX_TRANSIENT_BYTES} is not
 * sent; at most {@link MAX_QUEUED} changes wait (the oldest give way), so a database that is slow
 * or away costs memory bounded here and never slows the run.
 */
import type { TransientChange } from '../../core/store.js';

/** Largest change sent, in bytes of JSON. */
export const MAX_TRANSIENT_BYTES = 2 * 1024 * 1024;
/** Changes waiting to be sent; past it the oldest are dropped. */
const MAX_QUEUED = 10_000;
/** Bytes of one part's text: with its header it stays under PostgreSQL's 8000-byte payload. */
const PART_BYTES = 7_800;
/** Payloads sent in one statement. */
const MAX_BATCH = 500;

/** Sends queued payloads (`SELECT pg_notify(channel, p) FROM unnest($1)`), in their order, as one transaction. */
export type NotifyBatch = (payloads: string[]) => Promise<void>;

/** Orders, cuts and batches the transient changes of one store. */
export class TransientNotifier {
  readonly #send: NotifyBatch;
  readonly #prefix = globalThis.crypto.randomUUID().slice(0, 8);
  #counter = 0;
  /** Messages waiting, each as its payloads (all parts of one message go in one batch). */
  #queue: string[][] = [];
  #sending: Promise<void> | null = null;

  constructor(send: NotifyBatch) {
    this.#send = send;
  }

  /** Queues a change; resolves once the batch it went out in was sent (or failed: it is dropped then). */
  publish(change: TransientChange): Promise<void> {
    const json = JSON.stringify(change);
    if (json.length > MAX_TRANSIENT_BYTES || Buffer.byteLength(json) > MAX_TRANSIENT_BYTES) return Promise.resolve();
    this.#queue.push(payloadsOf(`${this.#prefix}-${(this.#counter++).toString(36)}`, json));
    if (this.#queue.length > MAX_QUEUED) this.#queue.shift();
    this.#sending ??= this.#drain().finally(() => (this.#sending = null));
    return this.#sending;
  }

  /** Whether nothing waits to be sent (no batch out, none queued). */
  get isIdle(): boolean {
    return this.#sending === null;
  }

  /** Resolves when nothing waits to be sent. */
  async idle(): Promise<void> {
    while (this.#sending) await this.#sending;
  }

  async #drain(): Promise<void> {
    // Changes published while a batch is out wait for the next one, behind it.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const batch: string[] = [];
      while (this.#queue.length > 0 && (batch.length === 0 || batch.length + this.#queue[0]!.length <= MAX_BATCH)) batch.push(...this.#queue.shift()!);
      await this.#send(batch).catch(() => undefined); // best effort: transient means exactly that
    }
  }
}

/** The payloads of one message: the JSON itself when it fits, else its parts. */
function payloadsOf(messageId: string, json: string): string[] {
  if (json.charCodeAt(0) === 123 /* { */ && Buffer.byteLength(json) <= PART_BYTES) return [`${messageId} 0 1 ${json}`];
  const parts: string[] = [];
  let at = 0;
  while (at < json.length) {
    let end = Math.min(json.length, at + PART_BYTES);
    while (Buffer.byteLength(json.slice(at, end)) > PART_BYTES) end = at + Math.floor((end - at) * 0.75);
    // Never between the two halves of a surrogate pair.
    if (end < json.length && /[\uD800-\uDBFF]/.test(json[end - 1]!)) end--;
    parts.push(json.slice(at, end));
    at = end;
  }
  return parts.map((text, i) => `${messageId} ${i} ${parts.length} ${text}`);
}

/** Joins the parts of messages back into changes, as a listener receives them. */
export class TransientReassembler {
  readonly #partial = new Map<string, { parts: string[]; count: number }>();

  /** The change a payload completes, or null (a part of a message still missing, or not a change). */
  accept(payload: string): TransientChange | null {
    // A flowrun before parts sent the JSON itself.
    if (payload.startsWith('{')) return parseChange(payload);
    const match = /^(\S+) (\d+) (\d+) /.exec(payload);
    if (!match) return null;
    const [header, id, index, count] = match as unknown as [string, string, string, string];
    const text = payload.slice(header.length);
    const total = Number(count);
    if (total === 1) return parseChange(text);
    let message = this.#partial.get(id);
    if (!message) {
      message = { parts: [], count: total };
      this.#partial.set(id, message);
      // Parts of one message arrive together; a message never completed (its sender died) gives way.
      if (this.#partial.size > 64) this.#partial.delete(this.#partial.keys().next().value as string);
    }
    message.parts[Number(index)] = text;
    if (message.parts.filter((p) => p !== undefined).length < message.count) return null;
    this.#partial.delete(id);
    return parseChange(message.parts.join(''));
  }
}

function parseChange(json: string): TransientChange | null {
  try {
    const change = JSON.parse(json) as TransientChange;
    return typeof change?.runId === 'string' && typeof change.afterSeq === 'number' && typeof change.event === 'object' && change.event !== null ? change : null;
  } catch {
    return null; // not ours
  }
}
