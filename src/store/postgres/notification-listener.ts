/**
 * LISTEN side of the store's change notifications: one dedicated connection per store (not a
 * pooled one: a pooled connection is shared and LISTEN is per session) that fans each
 * `<runId>:<lastSeq>` payload out to the subscribed listeners.
 */
import type { Client, Notification } from 'pg';
import { FlowError } from '../../core/errors.js';
import type { RunNotification, RunNotificationListener } from './run-notification.js';
import { TransientReassembler } from './transient-notifier.js';

export type { RunNotification, RunNotificationListener } from './run-notification.js';

/** Options of a {@link NotificationListener}. */
export interface NotificationListenerOptions {
  /** Opens a new connected, dedicated client; rejects with a FlowError when it cannot. */
  connect: () => Promise<Client>;
  /** The channel of `<runId>:<lastSeq>` payloads. */
  channel: string;
  /** The channel of TransientChange payloads (transient-notifier.ts). */
  transientChannel: string;
  warn: (message: string) => void;
  /** First reconnect delay; doubles per failed attempt up to `maxReconnectDelayMs`. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

/**
 * Keeps one LISTEN connection open while anyone subscribes and reconnects it when it drops.
 *
 * Guarantees: a listener hears every NOTIFY committed after its `add` resolved while the
 * connection is up. Notifications sent while it is down are lost — they are hints; watchers also
 * poll — and the connection comes back with exponential backoff for as long as someone listens.
 * The connection closes when the last listener leaves.
 */
export class NotificationListener {
  readonly #options: NotificationListenerOptions;
  readonly #listeners = new Set<RunNotificationListener>();
  /** Transient changes come in parts when larger than a payload (transient-notifier.ts). */
  readonly #transients = new TransientReassembler();
  #client: Client | null = null;
  #connecting: Promise<void> | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #failedAttempts = 0;
  #closed = false;

  constructor(options: NotificationListenerOptions) {
    this.#options = options;
  }

  /**
   * Adds a listener; resolves once LISTEN is active, with a function that removes it again.
   * Rejects with STORE_ERROR when no connection can be made (the listener is not kept then).
   */
  async add(listener: RunNotificationListener): Promise<() => Promise<void>> {
    if (this.#closed) throw new FlowError('STORE_ERROR', 'the postgres store is closed');
    this.#listeners.add(listener);
    try {
      await this.#ensureListening();
    } catch (error) {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) await this.#stop();
      throw error;
    }
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) await this.#stop();
    };
  }

  /** Drops every listener and the connection; later `add` calls reject. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#connecting?.catch(() => undefined);
    await this.#stop();
  }

  #ensureListening(): Promise<void> {
    if (this.#client) return Promise.resolve();
    this.#connecting ??= this.#start().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  async #start(): Promise<void> {
    const client = await this.#options.connect();
    client.on('notification', (message: Notification) => this.#dispatch(message));
    // An 'error' without a handler would crash the process; a dropped socket emits both.
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await client.query(`LISTEN ${this.#options.channel}`);
      await client.query(`LISTEN ${this.#options.transientChannel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#closed || this.#listeners.size === 0) {
      // Everyone left while we were connecting.
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#failedAttempts = 0;
  }

  #dispatch(message: Notification): void {
    const notification = message.payload ? this.#parse(message.channel, message.payload) : null;
    if (!notification) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(notification);
      } catch {
        // A listener's failure is its own; the others still hear the notification.
      }
    }
  }

  #parse(channel: string, payload: string): RunNotification | null {
    if (channel === this.#options.transientChannel) {
      const transient = this.#transients.accept(payload);
      return transient && { runId: transient.runId, lastSeq: transient.afterSeq, transient };
    }
    if (channel !== this.#options.channel) return null;
    // Run ids may contain ':'; the sequence number is after the last one.
    const at = payload.lastIndexOf(':');
    const lastSeq = Number(payload.slice(at + 1));
    return at > 0 && Number.isInteger(lastSeq) ? { runId: payload.slice(0, at), lastSeq } : null;
  }

  #lost(client: Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => undefined);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#listeners.size === 0 || this.#reconnectTimer) return;
    const initial = this.#options.reconnectDelayMs ?? 100;
    const delayMs = Math.min(this.#options.maxReconnectDelayMs ?? 5_000, initial * 2 ** this.#failedAttempts);
    this.#failedAttempts += 1;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#ensureListening().catch((error: unknown) => {
        this.#options.warn(`flowrun: LISTEN connection lost, retrying in the background: ${error instanceof Error ? error.message : String(error)}`);
        this.#scheduleReconnect();
      });
    }, delayMs);
    // Reconnecting must not keep a process alive that has nothing else to do.
    this.#reconnectTimer.unref();
  }

  async #stop(): Promise<void> {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    const client = this.#client;
    this.#client = null;
    if (client) await client.end().catch(() => undefined);
  }
}
