/**
 * Transient changes between the processes of one SQLite file: a bounded, non-durable side
 * channel beside the database, for what SQLite itself cannot carry (it has no NOTIFY).
 *
 * Every process that subscribes listens on a Unix domain socket and registers it in the folder
 * `<database>.live/` (created 0700, like the file's 0600: only its owner may connect or send). A
 * process that publishes connects to every socket registered there — it looks again whenever
 * the folder changed — and writes each change as one line of JSON. So the process a watcher is
 * in has registered before the watch reads its first event, and every change a run publishes
 * after that reaches it, in order (one stream per pair of processes); what is published while it
 * is not registered is never seen — transient means exactly that.
 *
 * Bounds: a change larger than {@link MAX_MESSAGE_BYTES} is not sent; a listener that reads more
 * slowly than a publisher writes loses changes once {@link MAX_BUFFERED_BYTES} wait for it, and
 * never slows the run. A registration left by a process that died is removed by the first
 * publisher refused by its socket. Where there are no Unix domain sockets (Windows) the channel
 * stays off and watchers in other processes miss transient changes, as before.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransientChange } from '../../core/store.js';

/** Largest change sent, in bytes of JSON (an item or an output snapshot within `maxValueBytes`, with room). */
export const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
/** Bytes waiting for one slow listener before further changes to it are dropped. */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Longest socket path a registration holds in place (sun_path is 104–108 bytes); longer ones live in a temporary folder. */
const MAX_SOCKET_PATH = 100;
/** A folder changed within this long ago is read again at every publish: its mtime may not show a second change of the same tick. */
const RECENT_CHANGE_MS = 1_000;

interface Peer {
  socket: Socket;
  /** Changes dropped because this listener read too slowly. */
  dropped: number;
}

/** The side channel of one SQLite store (one per store object; several per file and process are fine). */
export class LiveChannel {
  readonly #folder: string;
  readonly #warn: (message: string) => void;
  readonly #listeners = new Set<(change: TransientChange) => void>();
  readonly #peers = new Map<string, Peer>();
  #listening: Promise<void> | null = null;
  #server: Server | null = null;
  /** Connections of publishers to this process's socket: closed with it (a server closes only once they are gone). */
  readonly #accepted = new Set<Socket>();
  /** This store's own registration (entry name) and what to remove when it stops. */
  #own: { entry: string; cleanup: () => void } | null = null;
  #folderMtimeNs = -1n;
  #folderUsable: boolean | null = null;
  #closed = false;

  constructor(options: { databasePath: string; warn: (message: string) => void }) {
    this.#folder = `${options.databasePath}.live`;
    this.#warn = options.warn;
  }

  /**
   * Adds a listener of other processes' changes; resolves once this process is registered (from
   * then on every change published reaches it), with the function that removes it. Resolves
   * without registering where the channel cannot work (a warning says why).
   */
  async listen(listener: (change: TransientChange) => void): Promise<() => Promise<void>> {
    this.#listeners.add(listener);
    this.#listening ??= this.#register().catch((error: unknown) => {
      this.#warn(`flowrun: transient items will not reach other processes over "${this.#folder}": ${error instanceof Error ? error.message : String(error)}`);
    });
    await this.#listening;
    return async () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) await this.#unregister();
    };
  }

  /** Sends a change to every registered listener of other processes, best effort, at once; never throws. */
  publish(change: TransientChange): void {
    if (this.#closed || !this.#refreshPeers() || this.#peers.size === 0) return;
    const line = `${JSON.stringify(change)}\n`;
    if (line.length > MAX_MESSAGE_BYTES || Buffer.byteLength(line) > MAX_MESSAGE_BYTES) return;
    for (const peer of this.#peers.values()) {
      if (peer.socket.writableLength > MAX_BUFFERED_BYTES) peer.dropped++;
      else peer.socket.write(line);
    }
  }

  /** Stops listening and publishing, removing this process's registration. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    for (const peer of this.#peers.values()) peer.socket.destroy();
    this.#peers.clear();
    await this.#listening;
    await this.#unregister();
  }

  async #register(): Promise<void> {
    if (process.platform === 'win32') throw new Error('Unix domain sockets are not available on Windows');
    if (!this.#ensureFolder()) throw new Error('the folder is not a private folder of this user');
    const entry = `${process.pid}-${globalThis.crypto.randomUUID().slice(0, 8)}`;
    const inPlace = join(this.#folder, `${entry}.sock`);
    // A path too long for a socket: the socket lives in a private temporary folder, the registration names it.
    const privateFolder = Buffer.byteLength(inPlace) > MAX_SOCKET_PATH ? mkdtempSync(join(tmpdir(), 'flowrun-live-')) : null;
    const socketPath = privateFolder ? join(privateFolder, 's.sock') : inPlace;
    const server = createServer((socket) => this.#receive(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.unref();
    const registration = privateFolder ? join(this.#folder, `${entry}.path`) : inPlace;
    if (privateFolder) writeFileSync(registration, socketPath, { mode: 0o600 });
    this.#server = server;
    this.#own = {
      entry: privateFolder ? `${entry}.path` : `${entry}.sock`,
      cleanup: () => {
        rmQuietly(registration);
        if (privateFolder) rmSync(privateFolder, { recursive: true, force: true });
      },
    };
  }

  async #unregister(): Promise<void> {
    const server = this.#server;
    const own = this.#own;
    this.#server = null;
    this.#own = null;
    this.#listening = null;
    if (!server) return;
    own?.cleanup();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#accepted) socket.destroy();
    this.#accepted.clear();
    await closed;
  }

  /** Reads newline-separated changes from one publisher; a line past the size bound ends that connection. */
  #receive(socket: Socket): void {
    socket.unref();
    this.#accepted.add(socket);
    socket.on('close', () => this.#accepted.delete(socket));
    socket.setEncoding('utf8');
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        this.#deliver(line);
      }
      if (buffered.length > MAX_MESSAGE_BYTES) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
  }

  #deliver(line: string): void {
    let change: TransientChange;
    try {
      change = JSON.parse(line) as TransientChange;
    } catch {
      return;
    }
    if (typeof change?.runId !== 'string' || typeof change.afterSeq !== 'number' || typeof change.origin !== 'string' || typeof change.event !== 'object' || change.event === null) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  /** Connects to registrations that appeared since the folder was last read; false when there is no usable folder. */
  #refreshPeers(): boolean {
    let mtimeNs: bigint;
    try {
      const stat = statSync(this.#folder, { bigint: true, throwIfNoEntry: false });
      if (!stat) return false; // nobody ever listened on this file
      mtimeNs = stat.mtimeNs;
    } catch {
      return false;
    }
    const recent = Number(BigInt(Date.now()) * 1_000_000n - mtimeNs) < RECENT_CHANGE_MS * 1_000_000;
    if (mtimeNs === this.#folderMtimeNs && !recent) return this.#folderUsable === true;
    this.#folderMtimeNs = mtimeNs;
    if (this.#folderUsable === null) this.#folderUsable = this.#ensureFolder();
    if (!this.#folderUsable) return false;
    const entries = new Set(readdirSync(this.#folder).filter((name) => name.endsWith('.sock') || name.endsWith('.path')));
    for (const [entry, peer] of this.#peers) {
      if (!entries.has(entry)) {
        peer.socket.destroy();
        this.#peers.delete(entry);
      }
    }
    for (const entry of entries) {
      if (entry === this.#own?.entry || this.#peers.has(entry)) continue;
      this.#connect(entry);
    }
    return true;
  }

  #connect(entry: string): void {
    const registration = join(this.#folder, entry);
    let socketPath = registration;
    if (entry.endsWith('.path')) {
      try {
        socketPath = readFileSync(registration, 'utf8');
      } catch {
        return;
      }
    }
    // Writes made before the connection is up wait in the socket, so none of them is lost.
    const socket = createConnection(socketPath);
    socket.unref();
    const peer: Peer = { socket, dropped: 0 };
    this.#peers.set(entry, peer);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#peers.get(entry) === peer) this.#peers.delete(entry);
      socket.destroy();
      // Nobody listens there any more: the process died without removing its registration.
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') rmQuietly(registration);
    });
    socket.on('close', () => {
      if (this.#peers.get(entry) === peer) this.#peers.delete(entry);
    });
  }

  /** Creates the folder (0700) or checks that it is a folder of this user that nobody else may enter. */
  #ensureFolder(): boolean {
    try {
      mkdirSync(this.#folder, { recursive: true, mode: 0o700 });
      const stat = lstatSync(this.#folder);
      const uid = process.getuid?.();
      return stat.isDirectory() && (uid === undefined || stat.uid === uid) && (stat.mode & 0o077) === 0;
    } catch {
      return false;
    }
  }
}

function rmQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
