// Entries and a snapshot that Raft has accepted but the application has not yet persisted.
//
// Invariants: entries[i] has index offset + i. If snapshot is set, offset = snapshot index + 1 and the
// snapshot precedes the entries. Once the application reports persistence (stableTo, stableSnapTo),
// the persisted prefix is dropped from here and is served by Storage instead.

import { RaftPanic } from "./errors.js";
import type { Entry, Snapshot } from "./types.js";

export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The first index, if a snapshot is pending (the snapshot index + 1). */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /** Entries up to (i, t) were persisted. Ignored if the entry at i was replaced meanwhile. */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    const n = i + 1 - this.offset;
    this.entries = this.entries.slice(n);
    this.offset = i + 1;
  }

  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  /** Appends entries, replacing any existing suffix from the first new index on. */
  truncateAndAppend(ents: readonly Entry[]): void {
    const from = ents[0]!.index;
    if (from === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (from <= this.offset) {
      // The new entries replace everything unstable (and possibly conflict with stable entries).
      this.offset = from;
      this.entries = [...ents];
    } else {
      this.entries = this.slice(this.offset, from);
      for (const e of ents) this.entries.push(e);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    const upper = this.offset + this.entries.length;
    if (lo > hi) throw new RaftPanic(`invalid unstable.slice ${lo} > ${hi}`);
    if (lo < this.offset || hi > upper) {
      throw new RaftPanic(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
    }
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
