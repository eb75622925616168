/**
 * Reads served from memory while the file cannot have changed. `PRAGMA data_version` moves when
 * another connection (another process, another store on the same file) commits; this
 * connection's own writes are counted as they run. A cached value is only ever returned under the
 * same (data_version, own writes) pair it was read under, so a cache hit is exactly what a read
 * of the file would return — a token revoked or a run changed anywhere is seen by the next read.
 * The check is one statement, shared by the reads of one turn (SqliteConnection.dataVersion): ~3 µs
 * against 10–13 µs for reading a run row (bench/sqlite-statements.ts).
 */
import type { SqliteConnection } from './sqlite-connection.js';

/** Tracks whether what a connection sees committed may have changed. One per connection. */
export class CommittedState {
  #dataVersion = -1;
  #writes = 0;
  #checkedWrites = -1;
  #generation = 0;
  /** `total_changes()` of `#changesOf` after the last write noted: a write that leaves it as it was changed nothing. */
  #changesSeen = -1;
  #changesOf: SqliteConnection | null = null;

  /**
   * Counts a write of this connection (its own commits do not move `data_version`) when it
   * changed rows: an idle worker's empty claim, every poll, would otherwise make every cached
   * answer and listing tag stale at once. Called inside the write, after its statements and before
   * its commit: transactions run synchronously, so no read falls in between.
   */
  noteWrite(connection: SqliteConnection): void {
    const changes = connection.totalChanges();
    if (changes === this.#changesSeen && connection === this.#changesOf) return;
    this.#changesSeen = changes;
    this.#changesOf = connection;
    this.#writes++;
  }

  /** A number that changes whenever the committed contents may have changed since the last call. */
  generation(connection: SqliteConnection): number {
    const version = connection.dataVersion();
    if (version !== this.#dataVersion || this.#writes !== this.#checkedWrites) {
      this.#dataVersion = version;
      this.#checkedWrites = this.#writes;
      this.#generation++;
    }
    return this.#generation;
  }
}

/**
 * Values read under one generation of a {@link CommittedState}; a new generation empties it.
 * Bounded by entry count and by an estimate of the bytes held (a full cache starts over).
 */
export class CommittedReadCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #sizeOf: (value: V) => number;
  #generation = -1;
  #bytes = 0;

  constructor(options: { maxEntries: number; maxBytes?: number; sizeOf?: (value: V) => number }) {
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#sizeOf = options.sizeOf ?? (() => 0);
  }

  /** The value of `key` read under `generation`: from memory when it was read under it already, else `read()` and kept. */
  read(generation: number, key: string, read: () => V): V {
    if (generation !== this.#generation) this.#reset(generation);
    const cached = this.#entries.get(key);
    if (cached !== undefined) return cached;
    const value = read();
    const size = this.#sizeOf(value);
    if (this.#entries.size >= this.#maxEntries || this.#bytes + size > this.#maxBytes) this.#reset(generation);
    if (size <= this.#maxBytes) {
      this.#entries.set(key, value);
      this.#bytes += size;
    }
    return value;
  }

  #reset(generation: number): void {
    this.#entries.clear();
    this.#bytes = 0;
    this.#generation = generation;
  }
}
