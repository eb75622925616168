/**
 * Run ids derived from names a caller chooses — an idempotency key, an event id — that no user
 * can compute: HMAC-SHA-256 keyed with the store's secret (`Store.getStoreSecret`), shaped as a
 * UUID (version 8, RFC 9562). Every process over the same store derives the same id from the same
 * name, so the store's unique run id still makes a repeat meet the first run; nobody without the
 * secret can create that run first (squat it) or tell which run a name maps to.
 */
import type { SubscriptionDefinition } from '../../model.js';

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Derives run ids from caller-chosen names with the store's secret, read once per instance and cached. */
export class DerivedRunIds {
  readonly #secret: () => Promise<Uint8Array>;
  readonly #hmac: ((key: Uint8Array, data: Uint8Array) => Uint8Array) | undefined;
  #key: Promise<CryptoKey> | null = null;
  #rawKey: Promise<Uint8Array> | null = null;

  /** `hmac`: a synchronous HMAC-SHA-256 (IdSource.hmacSha256) giving the bytes Web Crypto would, for less CPU. */
  constructor(secret: () => Promise<Uint8Array>, hmac?: (key: Uint8Array, data: Uint8Array) => Uint8Array) {
    this.#secret = secret;
    this.#hmac = hmac;
  }

  /**
   * The run id of an idempotency key of one principal: the same principal and key always give the
   * same id; another principal's same key, another id. Rejects with the store's error when the
   * secret cannot be read (nothing is cached then, so the next call tries again).
   */
  forIdempotencyKey(principalId: string, key: string): Promise<string> {
    return this.#derive(['flowrun-idempotency', principalId, key]);
  }

  /**
   * The id of the run an event starts for one subscription of a flow: once per publisher, event,
   * flow and subscription, in every process over the store; different events or subscriptions,
   * different runs. The publisher (null: trusted in-process code) is part of it, so an event id
   * another principal used first takes nothing from this one (DESIGN §6).
   */
  forEvent(eventId: string, flowId: string, subscription: SubscriptionDefinition, publisher: string | null): Promise<string> {
    return this.#derive(['flowrun-event-run', publisher ?? '', eventId, flowId, subscription.on, subscription.run]);
  }

  /**
   * The id of the run a schedule starts for one slot: the same in every process over the store,
   * so however many engines race for a slot, the store creates one run. `scope` keeps one owner's
   * schedule ids apart from another's (the owner for a schedule made through the API; `definition`
   * for one a flow definition declares, whose id names the flow and which every version continues).
   * `kind` keeps a slot asked for by `trigger` apart from the calendar's slot of the same time.
   *
   * The id starts with the slot's millisecond (48 bits, as a UUIDv7 does) and ends with 74 bits of
   * the HMAC: a slot's runs sort after older runs, so a burst created in id order appends to the
   * stores' indexes instead of touching a page per run. Ids of this form replace
   * {@link legacyForScheduleSlot}'s; an engine that may meet a slot fired under the old form looks
   * for that id too.
   */
  forScheduleSlot(scope: string, scheduleId: string, slot: number, kind: 'slot' | 'trigger'): Promise<string> {
    return this.#derive(['flowrun-schedule-slot', scope, scheduleId, kind, String(slot)], slot);
  }

  /** The id {@link forScheduleSlot} gave before it began with the slot's time (flowrun 2026-12 and before): all 122 bits from the HMAC. */
  legacyForScheduleSlot(scope: string, scheduleId: string, slot: number, kind: 'slot' | 'trigger'): Promise<string> {
    return this.#derive(['flowrun-schedule-run', scope, scheduleId, kind, String(slot)]);
  }

  async #derive(parts: string[], timeMs?: number): Promise<string> {
    // JSON keeps the parts apart whatever characters they hold.
    const data = new TextEncoder().encode(JSON.stringify(parts));
    const mac = this.#hmac ? this.#hmac(await this.#secretBytes(), data) : new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', await this.#hmacKey(), data));
    const bytes = mac.slice(0, 16);
    if (timeMs !== undefined) {
      // The millisecond first, big-endian (UUIDv7's layout); the HMAC's first 10 bytes after it.
      bytes.copyWithin(6, 0, 10);
      let ms = Math.min(Math.max(0, Math.floor(timeMs)), 2 ** 48 - 1);
      for (let i = 5; i >= 0; i--, ms = Math.floor(ms / 256)) bytes[i] = ms % 256;
    }
    bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8: custom
    bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
    let hex = '';
    for (const b of bytes) hex += HEX[b]!;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  #secretBytes(): Promise<Uint8Array> {
    if (!this.#rawKey) {
      const key = this.#secret().then((secret) => new Uint8Array(secret));
      this.#rawKey = key;
      key.catch(() => {
        if (this.#rawKey === key) this.#rawKey = null;
      });
    }
    return this.#rawKey;
  }

  #hmacKey(): Promise<CryptoKey> {
    if (!this.#key) {
      const key = this.#secret().then((secret) => globalThis.crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']));
      this.#key = key;
      key.catch(() => {
        if (this.#key === key) this.#key = null;
      });
    }
    return this.#key;
  }
}
