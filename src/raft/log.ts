// The Raft log: persisted entries (Storage) followed by not yet persisted ones (Unstable).
//
// Invariants: applied <= committed <= lastIndex(). firstIndex() - 1 is the index of the latest snapshot
// (whose term is still known), so term() answers for [firstIndex() - 1, lastIndex()].

import { CompactedError, RaftPanic, UnavailableError } from "./errors.js";
import { Unstable } from "./log_unstable.js";
import type { RaftLogger } from "./logger.js";
import { limitSize, type Storage } from "./storage.js";
import type { Entry, Snapshot } from "./types.js";

export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known to be on a quorum of stable storages. */
  committed: number;
  /** Highest index handed to the application for applying (and acknowledged by advance). */
  applied: number;

  constructor(
    readonly storage: Storage,
    private readonly logger: RaftLogger,
    /** Upper bound in bytes of committed entries handed out in one Ready. */
    readonly maxApplyingEntsSize: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // The log starts right after the last compaction (snapshot) point.
    this.committed = first - 1;
    this.applied = first - 1;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, len(unstable.Entries)=${this.unstable.entries.length}`;
  }

  /**
   * Appends the leader's entries that follow (index, logTerm) if our log matches there. Returns the new
   * last index of the appended run, or undefined when the log does not match (the MsgApp is rejected).
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new RaftPanic(`entry ${ci} conflict with committed entry [committed(${this.committed})]`);
      }
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) {
      throw new RaftPanic(`after(${after}) is out of range [committed(${this.committed})]`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of ents that is not already in the log with the same term (0 if all
   * are present). Entries beyond our last index count as conflicts (they are new).
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) {
        if (e.index <= this.lastIndex()) {
          this.logger.info("found conflict", {
            index: e.index,
            existingTerm: this.zeroTermOnOutOfBounds(e.index),
            conflictingTerm: e.term,
          });
        }
        return e.index;
      }
    }
    return 0;
  }

  /**
   * For a rejected MsgApp at (index, term): the largest index <= index whose term is <= term, with its
   * term. The leader can skip straight past every entry that cannot match (fast backtracking).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const t = this.maybeTerm(index);
      // Compacted or unavailable: the term is unknown, stop here.
      if (t === undefined) return { index, term: 0 };
      if (t <= term) return { index, term: t };
    }
    return { index: 0, term: 0 };
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Committed entries not yet handed to the application, limited in bytes. */
  nextCommittedEnts(): Entry[] {
    if (this.hasPendingSnapshot()) return []; // the snapshot must be applied first
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > off) {
      return this.slice(off, this.committed + 1, this.maxApplyingEntsSize);
    }
    return [];
  }

  hasNextCommittedEnts(): boolean {
    if (this.hasPendingSnapshot()) return false;
    const off = Math.max(this.applied + 1, this.firstIndex());
    return this.committed + 1 > off;
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined && this.unstable.snapshot.metadata.index > 0;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(tocommit: number): void {
    // Never decrease commit.
    if (this.committed < tocommit) {
      if (this.lastIndex() < tocommit) {
        throw new RaftPanic(
          `tocommit(${tocommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
        );
      }
      this.committed = tocommit;
    }
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      throw new RaftPanic(
        `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
      );
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** Term of entry i. Throws CompactedError below the first index - 1, UnavailableError past the last. */
  term(i: number): number {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    // The valid range is [index of dummy entry, last index].
    if (i + 1 < this.firstIndex()) throw new CompactedError();
    if (i > this.lastIndex()) throw new UnavailableError();
    return this.storage.term(i);
  }

  /** Term of entry i, or undefined outside [firstIndex() - 1, lastIndex()]. Never throws for range. */
  maybeTerm(i: number): number | undefined {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i + 1 < this.firstIndex() || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch (e) {
      // Storage may have been compacted since firstIndex() was read.
      if (e instanceof CompactedError || e instanceof UnavailableError) return undefined;
      throw e;
    }
  }

  zeroTermOnOutOfBounds(i: number): number {
    return this.maybeTerm(i) ?? 0;
  }

  matchTerm(i: number, term: number): boolean {
    return this.maybeTerm(i) === term;
  }

  /** Entries from i on (at most maxSize bytes). */
  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  allEntries(): Entry[] {
    try {
      return this.entries(this.firstIndex(), Number.MAX_SAFE_INTEGER);
    } catch (e) {
      // A concurrent compaction can race with this read; retry once from the new first index.
      if (e instanceof CompactedError) return this.allEntries();
      throw e;
    }
  }

  /**
   * Whether a candidate whose log ends at (lasti, term) is at least as up to date as ours
   * (Raft §5.4.1: later last term wins; same term, longer log wins).
   */
  isUpToDate(lasti: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lasti >= this.lastIndex());
  }

  /** Commits up to maxIndex if that entry is of the given (current) term. */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (term > 0 && maxIndex > this.committed && this.zeroTermOnOutOfBounds(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.logger.info("log starts to restore snapshot", { index: s.metadata.index, term: s.metadata.term });
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries in [lo, hi), at most maxSize bytes (at least one entry). Reads storage then unstable. */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const uo = this.unstable.offset;
    if (lo < uo) {
      const stored = this.storage.entries(lo, Math.min(hi, uo), maxSize);
      // Storage returned fewer than asked: the size limit was hit, stop here.
      if (stored.length < Math.min(hi, uo) - lo) return stored;
      ents = stored;
    }
    if (hi > uo) {
      const unstable = this.unstable.slice(Math.max(lo, uo), hi);
      ents = ents.length > 0 ? ents.concat(unstable) : unstable;
    }
    return limitSize(ents, maxSize);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) throw new RaftPanic(`invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw new CompactedError();
    const length = this.lastIndex() + 1 - fi;
    if (hi > fi + length) throw new RaftPanic(`slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`);
  }
}
