/**
 * Makes a SQLite write-ahead log durable off the event loop: `fdatasync` of the `-wal` file runs
 * in libuv's thread pool while the event loop serves requests and runs steps.
 */
import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FlowError } from '../../core/errors.js';

/**
 * One database file's WAL, synced on request.
 *
 * Guarantees: a {@link sync} resolves only after every frame written to the WAL before the call
 * (by any connection of any process) is on disk: on Linux, `fdatasync` of any descriptor of a file
 * flushes all of its dirty pages, whoever wrote them, and the file's size. The descriptor is the
 * WAL's own, never the database file's or `-shm`'s: closing a descriptor of a file drops every
 * POSIX lock this process holds on it, and SQLite keeps its locks on those two files.
 */
export class WalSync {
  readonly #walPath: string;
  #fd: number | null = null;
  #inode = -1;

  private constructor(databasePath: string) {
    // Absolute, as SQLite makes it when it opens the file: a later chdir must not change which file is synced.
    this.#walPath = `${resolve(databasePath)}-wal`;
  }

  /**
   * A WalSync for the database at `path`, or null when it has no WAL file of its own to sync
   * (`:memory:`, a `file:` URI whose WAL name SQLite derives itself): such a connection keeps
   * SQLite's own synchronous=FULL.
   */
  static forDatabase(path: string): WalSync | null {
    return path === ':memory:' || path === '' || path.startsWith('file:') ? null : new WalSync(path);
  }

  /**
   * Flushes the WAL to disk; rejects with STORE_ERROR when the file is missing or the disk
   * reports an error (after which the pages it held may be gone: the caller must not trust
   * later syncs either).
   */
  sync(): Promise<void> {
    let fd: number;
    try {
      fd = this.#descriptor();
    } catch (error) {
      return Promise.reject(this.#error(error));
    }
    return new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(this.#error(error)) : resolve())));
  }

  /** Closes the descriptor; call it only when no {@link sync} is pending. A later sync opens it again. */
  close(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
  }

  #descriptor(): number {
    // The WAL keeps its inode while a connection is open on the database (only the last one to
    // close deletes it); the check is one stat per transaction against the day it does not.
    const stat = statSync(this.#walPath);
    if (this.#fd !== null && stat.ino === this.#inode) return this.#fd;
    this.close();
    const fd = openSync(this.#walPath, 'r+');
    this.#fd = fd;
    this.#inode = fstatSync(fd).ino;
    return fd;
  }

  #error(error: unknown): FlowError {
    const message = error instanceof Error ? error.message : String(error);
    return new FlowError('STORE_ERROR', `cannot make the SQLite write-ahead log "${this.#walPath}" durable: ${message}`, { cause: error });
  }
}
