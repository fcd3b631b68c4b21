// The stable storage Raft reads from: the application persists what Ready hands it, then Raft reads it
// back through this interface. MemoryStorage is the in-memory implementation for tests and simulations;
// the durable one (WAL + snapshots) lives in wal/.

import {
  CompactedError,
  RaftPanic,
  SnapOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from "./errors.js";
import {
  type ConfState,
  type Entry,
  EntryType,
  emptyBytes,
  emptyConfState,
  type HardState,
  type Snapshot,
} from "./types.js";

export interface Storage {
  /** The persisted hard state and membership, read once at start. */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Entries in [lo, hi), at least one if any exists, then as many as fit in maxSize bytes.
   * Throws CompactedError if lo <= the compacted index, UnavailableError if hi > lastIndex + 1.
   */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /** Term of entry i, for i in [firstIndex - 1, lastIndex]. Throws CompactedError / UnavailableError. */
  term(i: number): number;
  lastIndex(): number;
  /** Index of the first entry that may be available (the snapshot index + 1). */
  firstIndex(): number;
  /** The most recent snapshot; may throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot;
}

/** Keeps at most `maxSize` bytes of entries (but always the first one). */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = ents[0]!.data.length + 16;
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += ents[limit]!.data.length + 16;
    if (size > maxSize) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}

/**
 * In-memory Storage. Invariant: ents[0] is a dummy entry holding the index and term of the last
 * compaction point (the snapshot), so ents[i] has index ents[0].index + i.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: 0n, commit: 0 };
  private snap: Snapshot = { data: emptyBytes, metadata: { confState: emptyConfState(), index: 0, term: 0 } };
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: emptyBytes }];
  /** Test hook: when set, snapshot() throws SnapshotTemporarilyUnavailableError. */
  snapshotUnavailable = false;

  /** A fresh storage whose initial membership is the given voters (and learners), at index 0. */
  static withMembers(voters: readonly bigint[], learners: readonly bigint[] = []): MemoryStorage {
    const ms = new MemoryStorage();
    ms.snap = {
      data: emptyBytes,
      metadata: {
        confState: { ...emptyConfState(), voters: [...voters], learners: [...learners] },
        index: 0,
        term: 0,
      },
    };
    return ms;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  getHardState(): HardState {
    return { ...this.hardState };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) {
      throw new RaftPanic(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    }
    if (this.ents.length === 1) throw new UnavailableError();
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new CompactedError();
    if (i - offset >= this.ents.length) throw new UnavailableError();
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    if (this.snapshotUnavailable) throw new SnapshotTemporarilyUnavailableError();
    return this.snap;
  }

  /** Replaces the whole contents with the snapshot. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapOutOfDateError();
    this.snap = snap;
    this.ents = [
      { term: snap.metadata.term, index: snap.metadata.index, type: EntryType.Normal, data: emptyBytes },
    ];
  }

  /** Records a snapshot at applied index i (<= lastIndex) carrying the application's state. */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapOutOfDateError();
    const offset = this.ents[0]!.index;
    if (i < offset) throw new CompactedError();
    if (i > this.lastIndex()) {
      throw new RaftPanic(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    }
    this.snap = {
      data,
      metadata: {
        index: i,
        term: this.ents[i - offset]!.term,
        confState: cs ?? this.snap.metadata.confState,
      },
    };
    return this.snap;
  }

  /** Discards entries before compactIndex; compactIndex itself becomes the dummy entry. */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw new CompactedError();
    if (compactIndex > this.lastIndex()) {
      throw new RaftPanic(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    }
    const i = compactIndex - offset;
    const dummy: Entry = {
      index: this.ents[i]!.index,
      term: this.ents[i]!.term,
      type: EntryType.Normal,
      data: emptyBytes,
    };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /** Appends entries, truncating any conflicting suffix. Entries must be contiguous. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    // Drop the already-compacted prefix of the new entries.
    let ents = entries;
    if (first > entries[0]!.index) ents = entries.slice(first - entries[0]!.index);
    const offset = ents[0]!.index - this.ents[0]!.index;
    if (this.ents.length > offset) {
      this.ents = this.ents.slice(0, offset).concat(ents);
    } else if (this.ents.length === offset) {
      for (const e of ents) this.ents.push(e);
    } else {
      throw new RaftPanic(`missing log entry [last: ${this.lastIndex()}, append at: ${ents[0]!.index}]`);
    }
  }
}
