// A watcher and the groups the watchable store keeps them in (synced, unsynced). A group answers "which of
// my watchers watch this key?" without looking at every watcher: single-key watchers sit in a map by key,
// range watchers in an interval tree (one node per distinct range, holding the set of its watchers).

import type { KeySpan } from "../key_index.js";
import { IntervalTree } from "./interval_tree.js";
import type { WatchStream } from "./watch_stream.js";

/**
 * One watch. Invariants (see watchable_store.ts):
 * - every event of the watch with revision < minRev has been queued on its stream, each once, in order;
 *   none at or after minRev has;
 * - in the synced group, minRev may lag behind the store (until a write touches the watch) but nothing
 *   between minRev and the store's revision concerns the watch: it is complete through the current revision;
 * - unsynced or parked, minRev <= the store's revision: revisions minRev.. are still to be read from history;
 * - in no group once canceled.
 */
export class Watcher {
  /** Next revision to deliver (see the class comment). */
  minRev: number;
  /** Where the store keeps it (see watchable_store.ts); "none" once canceled. */
  group: "synced" | "unsynced" | "parked" | "none" = "none";
  /** A response for this watch was queued since the last periodic progress tick. */
  sentSinceTick = false;

  constructor(
    readonly id: number,
    readonly stream: WatchStream,
    /** The watched keys (etcd's key/range_end; `single` for one key). */
    readonly span: KeySpan,
    startRev: number,
    readonly noPut: boolean,
    readonly noDelete: boolean,
    readonly prevKv: boolean,
    readonly progressNotify: boolean,
    readonly fragment: boolean,
  ) {
    this.minRev = startRev;
  }

  /** True if the latin1 key `k` is watched. */
  matches(k: string): boolean {
    const s = this.span;
    if (s.single) return k === s.start;
    return k >= s.start && (s.end === undefined || k < s.end);
  }
}

export class WatcherGroup {
  /** Every member, in the order added (the sync loop walks it round-robin). */
  readonly watchers = new Set<Watcher>();
  private readonly byKey = new Map<string, Set<Watcher>>();
  private readonly ranges = new IntervalTree<Set<Watcher>>();

  get size(): number {
    return this.watchers.size;
  }

  has(w: Watcher): boolean {
    return this.watchers.has(w);
  }

  add(w: Watcher): void {
    if (this.watchers.has(w)) throw new Error(`watch: watcher ${w.id} added twice to a group`);
    this.watchers.add(w);
    const s = w.span;
    if (s.single) {
      let set = this.byKey.get(s.start);
      if (set === undefined) this.byKey.set(s.start, (set = new Set()));
      set.add(w);
      return;
    }
    let set = this.ranges.get(s.start, s.end);
    if (set === undefined) this.ranges.set(s.start, s.end, (set = new Set()));
    set.add(w);
  }

  /** Removes `w`; returns whether it was a member. */
  delete(w: Watcher): boolean {
    if (!this.watchers.delete(w)) return false;
    const s = w.span;
    if (s.single) {
      const set = this.byKey.get(s.start)!;
      set.delete(w);
      if (set.size === 0) this.byKey.delete(s.start);
      return true;
    }
    const set = this.ranges.get(s.start, s.end)!;
    set.delete(w);
    if (set.size === 0) this.ranges.delete(s.start, s.end);
    return true;
  }

  /** Calls `fn` for every member watching the latin1 key `k` (each once). */
  forEachMatch(k: string, fn: (w: Watcher) => void): void {
    const keyed = this.byKey.get(k);
    if (keyed !== undefined) for (const w of keyed) fn(w);
    if (this.ranges.size > 0) {
      this.ranges.stab(k, (set) => {
        for (const w of set) fn(w);
      });
    }
  }

  /** True if some member watches the latin1 key `k`. */
  contains(k: string): boolean {
    if (this.byKey.has(k)) return true;
    let found = false;
    if (this.ranges.size > 0) {
      this.ranges.stab(k, () => {
        found = true;
      });
    }
    return found;
  }
}
