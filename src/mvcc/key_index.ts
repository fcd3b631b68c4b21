// The in-memory key index: for every key, the revisions at which it was written, grouped in generations.
// A generation is a key's life from a put that creates it to the delete (tombstone) that ends it; the
// last generation is the current one and is empty while the key is deleted. Values are not here: they
// live in the backend under their revision. Rebuilt from the backend on start.
//
// Memory matters (one KeyIndex per key): all generations of a key share one flat number array, and the
// key itself is a latin1 string (one byte per char).

import { keyString } from "../backend/batch_tx.js";
import { BTree, type Keyed } from "./btree.js";

/** Filled by KeyIndex.get: the revision of the key's version at the asked revision. */
export interface RevLookup {
  /** Revision of the write that produced this version. */
  main: number;
  sub: number;
  /** Main revision that created the key's generation. */
  created: number;
  /** Version of the key (1 for the creating put). */
  ver: number;
}

export function newRevLookup(): RevLookup {
  return { main: 0, sub: 0, created: 0, ver: 0 };
}

// A key's generations, flat in one number array: for each generation, oldest first,
//   [created, ver, n, main_1, sub_1, ..., main_n, sub_n]
// created: main revision of the put that created it; ver: the key's version at its last revision (counts
// revisions compacted away); n: revisions kept. The last generation is the current one; n = 0 there while
// the key is deleted. In every other generation the last revision is the tombstone that ended it.
const HEAD = 3;

export class KeyIndex implements Keyed {
  /** Generations, flat (see above). Starts as one empty generation. */
  data: number[] = [0, 0, 0];
  /** Lease the key is attached to now, if any. */
  lease: bigint | undefined = undefined;
  // The current generation's latest revision, kept out of `data` too: reads at the current revision, the
  // common case, then touch only this object (each array hop is a cache miss on a large index).
  /** Main revision of the key's latest put while it exists (0 while deleted). */
  private modMain = 0;
  private modSub = 0;
  /** Creation revision of the current generation (0 while deleted). */
  created = 0;
  /** The key's version now: puts since creation (0 while deleted). */
  version = 0;

  constructor(readonly key: string) {}

  /** Refreshes the cached facts of the current generation from `data`. */
  private syncCurrent(): void {
    const d = this.data;
    const g = this.lastGen();
    const n = d[g + 2];
    if (n === 0) {
      this.modMain = this.modSub = this.created = this.version = 0;
      return;
    }
    const last = g + HEAD + 2 * n - 2;
    this.modMain = d[last];
    this.modSub = d[last + 1];
    this.created = d[g];
    this.version = d[g + 1];
  }

  /** Offset of the current (last) generation in data. */
  private lastGen(): number {
    const d = this.data;
    let o = 0;
    for (;;) {
      const next = o + HEAD + 2 * d[o + 2];
      if (next >= d.length) return o;
      o = next;
    }
  }

  /** Holds no revisions (may be dropped from the index). */
  get isEmpty(): boolean {
    return this.data.length === HEAD && this.data[2] === 0;
  }

  /** The key exists now (its current generation is not empty). */
  get live(): boolean {
    return this.version > 0;
  }

  /** Number of generations, the current one included. */
  get generations(): number {
    const d = this.data;
    let n = 0;
    for (let o = 0; o < d.length; o += HEAD + 2 * d[o + 2]) n++;
    return n;
  }

  /** Appends to the array, keeping small arrays exactly sized (memory per key matters). */
  private append(a: number, b: number, c?: number): void {
    const d = this.data;
    if (d.length < 32) this.data = d.concat(c === undefined ? [a, b] : [a, b, c]);
    else if (c === undefined) d.push(a, b);
    else d.push(a, b, c);
  }

  /** Records a put at (main, sub), which must be after every revision already recorded. */
  put(main: number, sub: number): void {
    const d = this.data;
    const len = d.length;
    if (len > HEAD || d[2] > 0) {
      // The latest revision is the last pair, whether the current generation is empty (then the pair
      // before its header is the previous generation's tombstone) or not.
      const tail = d[len - 2] === 0 ? len - HEAD : len; // revisions are >= 1: a 0 there is a header
      const mm = d[tail - 2];
      const ms = d[tail - 1];
      if (main < mm || (main === mm && sub <= ms)) {
        throw new Error(`mvcc: put at ${main}.${sub} not after the key's latest revision ${mm}.${ms}`);
      }
    }
    const g = this.lastGen();
    if (d[g + 2] === 0) {
      if (len === HEAD) {
        this.data = [main, 1, 1, main, sub];
        this.syncCurrent();
        return;
      }
      d[g] = main;
    }
    d[g + 1]++;
    d[g + 2]++;
    this.append(main, sub);
    this.syncCurrent();
  }

  /** Starts the index of a key met first at (main, sub) when rebuilding from the backend. */
  restore(created: number, main: number, sub: number, ver: number): void {
    this.data = [created, ver, 1, main, sub];
    this.syncCurrent();
  }

  /** Records a delete at (main, sub): the tombstone ends the current generation. */
  tombstone(main: number, sub: number): void {
    if (!this.live) throw new Error(`mvcc: tombstone at ${main}.${sub} on a key that does not exist`);
    this.put(main, sub);
    this.append(0, 0, 0);
    this.syncCurrent();
  }

  /**
   * Finds the key's version at revision `atRev`: fills `out` and returns true, or returns false if the
   * key did not exist then (not yet created, deleted, or compacted away).
   */
  get(atRev: number, out: RevLookup): boolean {
    if (this.version > 0 && atRev >= this.modMain) {
      out.main = this.modMain;
      out.sub = this.modSub;
      out.created = this.created;
      out.ver = this.version;
      return true;
    }
    const d = this.data;
    const len = d.length;
    // The latest generation whose first revision is <= atRev.
    let g = -1;
    for (let o = 0; o < len; o += HEAD + 2 * d[o + 2]) {
      if (d[o + 2] === 0 || d[o + HEAD] > atRev) break;
      g = o;
    }
    if (g < 0) return false;
    const n = d[g + 2];
    const end = g + HEAD + 2 * n;
    if (end < len && d[end - 2] <= atRev) return false; // ended by a tombstone at or before atRev
    let i = end - 2;
    while (d[i] > atRev) i -= 2;
    out.main = d[i];
    out.sub = d[i + 1];
    out.created = d[g];
    out.ver = d[g + 1] - (end - 2 - i) / 2;
    return true;
  }

  /**
   * Where compaction at atRev starts keeping: the offset of the first generation kept (the last one, or
   * the first not ended at or before atRev) and the index in data of its last revision <= atRev (-1 if
   * none).
   */
  private compactPoint(atRev: number): [g: number, r: number] {
    const d = this.data;
    let g = 0;
    for (;;) {
      const end = g + HEAD + 2 * d[g + 2];
      if (end >= d.length || d[end - 2] > atRev) break;
      g = end;
    }
    let r = g + HEAD + 2 * d[g + 2] - 2;
    while (r >= g + HEAD && d[r] > atRev) r -= 2;
    return [g, r >= g + HEAD ? r : -1];
  }

  /**
   * Drops what compaction at atRev makes unreachable: every generation ended at or before atRev, and in
   * the generation holding atRev every revision before the last one <= atRev. Pushes each dropped revision
   * to `removed` as (main, sub, tombstone 0|1), in ascending order.
   */
  compact(atRev: number, removed: number[]): void {
    if (this.isEmpty) return;
    const d = this.data;
    const [g, r] = this.compactPoint(atRev);
    for (let o = 0; o < g; o += HEAD + 2 * d[o + 2]) {
      const end = o + HEAD + 2 * d[o + 2];
      for (let i = o + HEAD; i < end; i += 2) removed.push(d[i], d[i + 1], i === end - 2 ? 1 : 0);
    }
    if (r < 0) {
      if (g > 0) this.data = d.slice(g);
      return;
    }
    for (let i = g + HEAD; i < r; i += 2) removed.push(d[i], d[i + 1], 0);
    const kept = (g + HEAD + 2 * d[g + 2] - r) / 2;
    // slice() sizes the array exactly (a spread into a literal leaves growth room).
    const nd = d.slice(r - HEAD);
    nd[0] = d[g];
    nd[1] = d[g + 1];
    nd[2] = kept;
    this.data = nd;
    this.syncCurrent();
  }

  /** Adds to `keep` the revisions compaction at atRev would keep (as "main_sub"), tombstones excepted. */
  keep(atRev: number, keep: Set<string>): void {
    if (this.isEmpty) return;
    const d = this.data;
    const [g, r] = this.compactPoint(atRev);
    if (r < 0) return;
    const end = g + HEAD + 2 * d[g + 2];
    if (r === end - 2 && end < d.length) return; // the tombstone itself
    keep.add(`${d[r]}_${d[r + 1]}`);
  }

  /** Every revision of the key, ascending, as (main, sub, tombstone 0|1) triples. */
  allRevisions(): number[] {
    const d = this.data;
    const out: number[] = [];
    for (let o = 0; o < d.length; o += HEAD + 2 * d[o + 2]) {
      const end = o + HEAD + 2 * d[o + 2];
      for (let i = o + HEAD; i < end; i += 2)
        out.push(d[i], d[i + 1], i === end - 2 && end < d.length ? 1 : 0);
    }
    return out;
  }
}

/**
 * A key range in etcd's terms, over latin1 key strings: `single` for one key, otherwise
 * [start, end), with no end meaning every key >= start.
 */
export interface KeySpan {
  start: string;
  single: boolean;
  end: string | undefined;
}

/**
 * key/rangeEnd as etcd reads them: rangeEnd absent or empty: the single key; rangeEnd "\0": every key
 * >= key; otherwise [key, rangeEnd) (empty if rangeEnd <= key).
 */
export function keySpan(key: Uint8Array, rangeEnd?: Uint8Array): KeySpan {
  const start = keyString(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start, single: true, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, single: false, end: undefined };
  return { start, single: false, end: keyString(rangeEnd) };
}

/** True if the latin1 key `k` is in `span`. */
export function spanHas(span: KeySpan, k: string): boolean {
  if (span.single) return k === span.start;
  return k >= span.start && (span.end === undefined || k < span.end);
}

/** The index over all keys, ordered by key bytes. */
export class TreeIndex {
  /** Ordered, for ranges. */
  private readonly tree = new BTree<KeyIndex>();
  /** The same key indexes by key, for point lookups in O(1) (a B-tree descent costs cache misses). */
  private readonly byKey = new Map<string, KeyIndex>();
  private readonly scratch = newRevLookup();

  /** Keys in the index (including deleted keys not yet compacted away). */
  get size(): number {
    return this.byKey.size;
  }

  get(key: string): KeyIndex | undefined {
    return this.byKey.get(key);
  }

  getOrCreate(key: string): KeyIndex {
    let ki = this.byKey.get(key);
    if (ki === undefined) {
      ki = new KeyIndex(key);
      this.tree.set(ki);
      this.byKey.set(key, ki);
    }
    return ki;
  }

  /**
   * Calls `fn` with each key of `span` that exists at `atRev`, ascending, and its version there (`out` is
   * reused between calls); `fn` returning false stops the walk.
   */
  visit(span: KeySpan, atRev: number, fn: (ki: KeyIndex, out: RevLookup) => unknown): void {
    const out = this.scratch;
    if (span.single) {
      const ki = this.byKey.get(span.start);
      if (ki?.get(atRev, out)) fn(ki, out);
      return;
    }
    if (span.end !== undefined && span.end <= span.start) return;
    this.tree.ascend(span.start, span.end, (ki) => (ki.get(atRev, out) ? fn(ki, out) : true));
  }

  /** Number of keys of `span` that exist at `atRev`. */
  count(span: KeySpan, atRev: number): number {
    let n = 0;
    this.visit(span, atRev, () => {
      n++;
    });
    return n;
  }

  /** Every key index of `span` regardless of revision, ascending. */
  forEachKey(span: KeySpan, fn: (ki: KeyIndex) => void): void {
    if (span.single) {
      const ki = this.byKey.get(span.start);
      if (ki !== undefined) fn(ki);
      return;
    }
    if (span.end !== undefined && span.end <= span.start) return;
    this.tree.ascend(span.start, span.end, (ki) => {
      fn(ki);
    });
  }

  /**
   * Compacts every key at atRev (see KeyIndex.compact) and drops keys left empty. Returns the dropped
   * revisions as (main, sub, tombstone) triples, each key's in ascending order.
   */
  compact(atRev: number): number[] {
    const removed: number[] = [];
    const emptied: string[] = [];
    this.tree.ascend("", undefined, (ki) => {
      ki.compact(atRev, removed);
      if (ki.isEmpty) emptied.push(ki.key);
    });
    for (const k of emptied) this.delete(k);
    return removed;
  }

  /** The revisions compaction at atRev would keep, as "main_sub" strings. */
  keep(atRev: number): Set<string> {
    const keep = new Set<string>();
    this.tree.ascend("", undefined, (ki) => {
      ki.keep(atRev, keep);
    });
    return keep;
  }

  /** Removes a key outright (used when a rebuild finds only a stray tombstone). */
  delete(key: string): void {
    this.tree.delete(key);
    this.byKey.delete(key);
  }

  /** Every key index, ascending. */
  all(): IterableIterator<KeyIndex> {
    return this.tree[Symbol.iterator]();
  }
}
