/**
 * Sealed listing markers. A page's marker is where the store's listing stopped: the sort key and
 * id of the last run it read, which — when the runs read last were ones the caller may not see —
 * is a run the caller may not see. The router hands markers out sealed (AES-GCM under a key
 * derived from the store's secret, with a fresh nonce each time) and opens them when they come
 * back, so a marker tells nothing about any run, and one not sealed by a router over the same
 * store (forged, edited, from another store) is refused as `query.marker`. Every process over the
 * store derives the same key: a page may be asked of another server process.
 */
import { ValidationError } from '../core/errors.js';

/** Seals and opens listing markers with a key derived from the store's secret (read once, cached). */
export class MarkerSeal {
  readonly #secret: () => Promise<Uint8Array>;
  #key: Promise<CryptoKey> | null = null;

  constructor(secret: () => Promise<Uint8Array>) {
    this.#secret = secret;
  }

  /** The marker as the API hands it out (null stays null). */
  async seal(marker: string | null): Promise<string | null> {
    if (marker === null) return null;
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await this.#aesKey(), new TextEncoder().encode(marker)));
    const bytes = new Uint8Array(iv.length + sealed.length);
    bytes.set(iv);
    bytes.set(sealed, iv.length);
    return toBase64Url(bytes);
  }

  /** The store's marker inside a sealed one; INVALID_INPUT naming `query.marker` for anything this store's routers did not seal. */
  async open(text: string): Promise<string> {
    try {
      const bytes = fromBase64Url(text);
      if (bytes.length > 12 + 16) {
        const opened = await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.slice(0, 12) }, await this.#aesKey(), bytes.slice(12));
        return new TextDecoder().decode(opened);
      }
    } catch {
      // refused below: not base64url, or not sealed with this store's key
    }
    throw new ValidationError('INVALID_INPUT', [{ path: 'query.marker', message: `"${text.slice(0, 40)}" is not a marker of this listing (pass on the marker of the previous page)` }]);
  }

  #aesKey(): Promise<CryptoKey> {
    this.#key ??= (async () => {
      const subtle = globalThis.crypto.subtle;
      const hmac = await subtle.importKey('raw', new Uint8Array(await this.#secret()), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const raw = await subtle.sign('HMAC', hmac, new TextEncoder().encode('flowrun-listing-marker-v1'));
      return subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    })().catch((error: unknown) => {
      // The store could not give its secret (it is down): ask again next time.
      this.#key = null;
      throw error;
    });
    return this.#key;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
