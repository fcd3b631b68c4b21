// The watchable store (etcd's watchableStore): watches on keys and ranges of a KVStore, from a start
// revision, history first and then live.
//
// Where a watcher is (Watcher.group):
// - synced: complete through the store's current revision. Each write transaction's events go to the
//   synced watchers whose keys they touch, at once, from the KV store's commit listener (found through
//   a key map and an interval tree, not by asking every watcher).
// - unsynced: behind, and its stream has room; revisions minRev.. are read back from the backend
//   (KVStore.rangeEvents) by the sync loop. A round serves the watcher that has waited longest plus
//   others whose position falls in the same window of maxRevsPerSync revisions (at most
//   maxWatchersPerSync of them), reads that window once, and hands each its events; served watchers go
//   to the back of the line, so one watcher far behind cannot hold the others up. Rounds are one
//   setImmediate apart, so writes and other streams proceed in between. A watcher caught up to the current
//   revision moves to synced.
// - parked: behind, and its stream's queue is full. It costs nothing until the stream's consumer takes a
//   response, which puts the stream's parked watchers back in line.
// A watcher starting at or below the current revision begins unsynced. A synced watcher whose stream's
// queue is full when events for it arrive is parked at that revision instead of waiting or buffering: the
// events stay in the backend. So memory per stream is bounded by its queue, writes never wait for
// watchers, and each stream's consumer only ever waits for its own responses.
//
// Why no event is skipped, duplicated or reordered: each watcher has one cursor, minRev. Every path that
// queues events for it (live delivery, a catch-up round) queues exactly the events of revisions
// [minRev, r] that concern it, in revision order, then sets minRev = r + 1; both paths run synchronously
// (no write can interleave), and a watcher is in one group at a time. Live delivery only ever hands a
// watcher the revision right after everything it has (synced means complete through the current revision).
//
// Compaction: a watcher whose minRev is below the compaction revision can no longer be caught up; it is
// canceled with a response carrying compactRevision (etcd's behavior, including its edge: compaction at C
// keeps the puts of revision C but not its deletes, so a watch from exactly C may miss a delete at C).
//
// prevKv: the KV store's events carry no prevKv, so for watchers that ask, the previous version is read
// at modRevision - 1 (one index lookup and one backend read per event, shared by all watchers of that
// event, skipped for creations); when that revision is compacted there is no prevKv (as etcd).

import { keyString } from "../../backend/batch_tx.js";
import { CompactedError } from "../errors.js";
import { type Event, EventType, type KeyValue } from "../types.js";
import type { WatchableKV, WatchableStoreOptions, WatchLogger } from "./types.js";
import { WatchStream, type WatchStreamHost } from "./watch_stream.js";
import { type Watcher, WatcherGroup } from "./watcher_group.js";

const UNBOUNDED = new Uint8Array([0]);
const noopLogger: WatchLogger = { info() {}, warn() {} };

export const DEFAULT_MAX_PENDING_RESPONSES = 1024;
export const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_WATCHERS_PER_SYNC = 512;
export const DEFAULT_MAX_REVS_PER_SYNC = 1000;
export const DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS = 10 * 60 * 1000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1.5 * 1024 * 1024;

/** Counters for metrics and tests. */
export interface WatchStats {
  streams: number;
  synced: number;
  /** Behind, unsynced or parked. */
  unsynced: number;
  /** Behind and waiting for their stream's consumer. */
  parked: number;
  /** Sync-loop rounds run. */
  syncRounds: number;
  /** Times a synced watcher was moved aside because its stream's queue was full. */
  slowMoves: number;
  /** Watchers canceled for compaction. */
  compacted: number;
}

/** Per-stream overrides of the store's queue bounds. */
export interface WatchStreamOptions {
  maxPendingResponses?: number;
  maxPendingBytes?: number;
}

export class WatchableStore {
  private readonly synced = new WatcherGroup();
  /** Unsynced watchers, in the order they are served. */
  private readonly unsynced = new Set<Watcher>();
  private parkedCount = 0;
  private readonly streams = new Set<WatchStream>();
  private readonly host: WatchStreamHost;
  private readonly maxPendingResponses: number;
  private readonly maxPendingBytes: number;
  private readonly maxWatchersPerSync: number;
  private readonly maxRevsPerSync: number;
  private readonly logger: WatchLogger;
  private syncScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  private rounds = 0;
  private slowMoves = 0;
  private compactedCount = 0;
  private readonly idleWaiters: (() => void)[] = [];

  /** Takes over `kv`'s commit listener (one watchable store per KV store). */
  constructor(
    private kv: WatchableKV,
    opts: WatchableStoreOptions = {},
  ) {
    this.maxPendingResponses = Math.max(1, opts.maxPendingResponses ?? DEFAULT_MAX_PENDING_RESPONSES);
    this.maxPendingBytes = Math.max(1, opts.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES);
    this.maxWatchersPerSync = Math.max(1, opts.maxWatchersPerSync ?? DEFAULT_MAX_WATCHERS_PER_SYNC);
    this.maxRevsPerSync = Math.max(1, opts.maxRevsPerSync ?? DEFAULT_MAX_REVS_PER_SYNC);
    this.logger = opts.logger ?? noopLogger;
    const maxResponseBytes = Math.max(1, opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
    this.host = {
      rev: () => this.kv.rev(),
      register: (w, startRev) => this.register(w, startRev),
      unregister: (w) => this.unregister(w),
      roomFreed: (s) => {
        for (const w of s.parked) this.moveTo(w, "unsynced");
        this.scheduleSync();
      },
      closed: (s) => this.streams.delete(s),
      maxResponseBytes,
    };
    kv.setCommitListener((events, rev) => this.notify(events, rev));
    const interval = opts.progressNotifyIntervalMs ?? DEFAULT_PROGRESS_NOTIFY_INTERVAL_MS;
    if (interval > 0) {
      this.progressTimer = setInterval(() => this.progressTick(), interval);
      this.progressTimer.unref();
    }
  }

  /**
   * The key space was replaced underneath (a member installed the leader's snapshot): follow `kv` from
   * now on. Synced watchers become unsynced, so each is caught up from the new store's history from its
   * own cursor (minRev): no event lost or repeated, or etcd's compacted error when the new store no
   * longer has that revision. Streams and their watch IDs stay as they are.
   */
  restore(kv: WatchableKV): void {
    if (this.isClosed) return;
    this.kv.setCommitListener(undefined);
    this.kv = kv;
    kv.setCommitListener((events, rev) => this.notify(events, rev));
    for (const w of [...this.synced.watchers]) this.moveTo(w, "unsynced");
    this.scheduleSync();
  }

  /** A new stream of watches (one per client Watch call). */
  watchStream(opts: WatchStreamOptions = {}): WatchStream {
    if (this.isClosed) throw new Error("watch: store is closed");
    const s = new WatchStream(
      this.host,
      Math.max(1, opts.maxPendingResponses ?? this.maxPendingResponses),
      Math.max(1, opts.maxPendingBytes ?? this.maxPendingBytes),
    );
    this.streams.add(s);
    return s;
  }

  rev(): number {
    return this.kv.rev();
  }

  compactRev(): number {
    return this.kv.compactRev();
  }

  stats(): WatchStats {
    return {
      streams: this.streams.size,
      synced: this.synced.size,
      unsynced: this.unsynced.size + this.parkedCount,
      parked: this.parkedCount,
      syncRounds: this.rounds,
      slowMoves: this.slowMoves,
      compacted: this.compactedCount,
    };
  }

  /**
   * Resolves once no watcher is waiting for the sync loop: every watcher is synced, or waits for its
   * stream's consumer to make room.
   */
  idle(): Promise<void> {
    if (!this.syncScheduled && this.retryTimer === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Periodic progress: each watch that asked for progressNotify, is synced, and had no response since
   * the last tick gets an empty response with the current revision. Runs on the progress timer; public
   * for tests and for a server that drives its own clock.
   */
  progressTick(): void {
    const rev = this.kv.rev();
    for (const s of this.streams) {
      for (const w of s.watcherList()) {
        if (w.progressNotify && !w.sentSinceTick && w.group === "synced" && s.hasRoom())
          s.pushProgress(w, rev);
        w.sentSinceTick = false;
      }
    }
  }

  /** Closes every stream, stops the loops and gives the KV store's commit listener back. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.kv.setCommitListener(undefined);
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const s of [...this.streams]) s.close();
    this.wakeIdle();
  }

  /**
   * One round of the sync loop, run now (see the file comment). Returns how many watchers it advanced,
   * synced or canceled; 0 means nothing is ready.
   */
  syncRound(): number {
    this.rounds++;
    const cur = this.kv.rev();
    const compactRev = this.kv.compactRev();
    const chosen: Watcher[] = [];
    let handled = 0;
    // The window [lowest, toRev] is set by the first ready watcher in line.
    let toRev = 0;
    let lowest = 0;
    for (const w of this.unsynced) {
      if (chosen.length >= this.maxWatchersPerSync) break;
      const s = w.stream;
      if (!s.hasRoom()) {
        this.moveTo(w, "parked");
        continue;
      }
      if (w.minRev < compactRev) {
        this.compactedCount++;
        handled++;
        s.pushCompacted(w, compactRev, cur);
        continue;
      }
      if (w.minRev > cur) {
        // Not expected (unsynced watchers are behind), but synced is where it belongs.
        this.moveTo(w, "synced");
        handled++;
        continue;
      }
      if (chosen.length === 0) {
        toRev = Math.min(cur, w.minRev + this.maxRevsPerSync - 1);
        lowest = toRev - this.maxRevsPerSync + 1;
      } else if (w.minRev > toRev || w.minRev < lowest) {
        continue; // a later round's window
      }
      chosen.push(w);
    }
    if (chosen.length === 0) return handled;

    let fromRev = toRev;
    let lo: string | undefined;
    let hi: string | undefined = "";
    for (const w of chosen) {
      if (w.minRev < fromRev) fromRev = w.minRev;
      const sp = w.span;
      if (lo === undefined || sp.start < lo) lo = sp.start;
      const end = sp.single ? `${sp.start}\0` : sp.end;
      if (hi !== undefined && (end === undefined || end > hi)) hi = end;
    }
    const events = this.kv.rangeEvents(
      Buffer.from(lo!, "latin1"),
      hi === undefined ? UNBOUNDED : Buffer.from(hi, "latin1"),
      fromRev,
      toRev,
    );

    // Each chosen watcher's events, found through a group of the chosen ones (not by asking each watcher).
    const batches = new Map<Watcher, Event[]>();
    if (events.length > 0) {
      const group = new WatcherGroup();
      for (const w of chosen) group.add(w);
      for (const ev of events) {
        const rev = ev.kv.modRevision;
        group.forEachMatch(keyString(ev.kv.key), (w) => {
          if (rev < w.minRev) return;
          const b = batches.get(w);
          if (b === undefined) batches.set(w, [ev]);
          else b.push(ev);
        });
      }
    }

    const prev = new PrevKvCache(this.kv);
    for (const w of chosen) {
      const evs = batches.get(w);
      const out = evs === undefined ? EMPTY_EVENTS : shape(w, evs, prev);
      if (out.length > 0) {
        if (!w.stream.hasRoom()) {
          // Another watcher of the same stream filled it this round.
          this.moveTo(w, "parked");
          continue;
        }
        w.stream.pushEvents(w, out, toRev);
      }
      w.minRev = toRev + 1;
      handled++;
      if (w.minRev > cur) this.moveTo(w, "synced");
      else this.rotate(w);
    }
    return handled;
  }

  // ---- internals -------------------------------------------------------------------------------------

  /** The commit listener: hands a write transaction's events to the synced watchers they concern. */
  private notify(events: Event[], rev: number): void {
    if (this.synced.size === 0) return;
    try {
      const batches = new Map<Watcher, Event[]>();
      for (const ev of events) {
        this.synced.forEachMatch(keyString(ev.kv.key), (w) => {
          const b = batches.get(w);
          if (b === undefined) batches.set(w, [ev]);
          else b.push(ev);
        });
      }
      if (batches.size === 0) return;
      const prev = new PrevKvCache(this.kv);
      for (const [w, evs] of batches) {
        if (w.minRev > rev) continue; // starts in the future
        const out = shape(w, evs, prev);
        if (out.length > 0) {
          if (!w.stream.hasRoom()) {
            // Slow consumer: leave the events in the backend and catch up once it has made room.
            w.minRev = rev;
            this.moveTo(w, "parked");
            this.slowMoves++;
            continue;
          }
          w.stream.pushEvents(w, out, rev);
        }
        w.minRev = rev + 1;
      }
    } catch (err) {
      // Never fail the write that called us. Whoever was not served yet is still at minRev <= rev:
      // catch them up from history.
      this.logger.warn("watch: live delivery failed; catching up from history", { rev, error: String(err) });
      for (const w of [...this.synced.watchers]) {
        if (w.minRev <= rev) this.moveTo(w, "unsynced");
      }
      this.scheduleSync();
    }
  }

  private register(w: Watcher, startRev: number): void {
    const cur = this.kv.rev();
    if (startRev === 0 || startRev > cur) {
      w.minRev = Math.max(cur + 1, startRev);
      this.moveTo(w, "synced");
    } else {
      w.minRev = startRev;
      this.moveTo(w, "unsynced");
      this.scheduleSync();
    }
  }

  private unregister(w: Watcher): void {
    switch (w.group) {
      case "synced":
        this.synced.delete(w);
        break;
      case "unsynced":
        this.unsynced.delete(w);
        w.stream.unsyncedCount--;
        break;
      case "parked":
        w.stream.parked.delete(w);
        this.parkedCount--;
        w.stream.unsyncedCount--;
        break;
    }
    w.group = "none";
  }

  private moveTo(w: Watcher, group: "synced" | "unsynced" | "parked"): void {
    if (w.group === group) return;
    this.unregister(w);
    w.group = group;
    switch (group) {
      case "synced":
        this.synced.add(w);
        w.stream.checkDeferredProgress();
        break;
      case "unsynced":
        this.unsynced.add(w);
        w.stream.unsyncedCount++;
        break;
      case "parked":
        w.stream.parked.add(w);
        this.parkedCount++;
        w.stream.unsyncedCount++;
        break;
    }
  }

  /** Sends an unsynced watcher to the back of the round-robin order. */
  private rotate(w: Watcher): void {
    this.unsynced.delete(w);
    this.unsynced.add(w);
  }

  private scheduleSync(): void {
    if (this.syncScheduled || this.isClosed) return;
    this.syncScheduled = true;
    setImmediate(() => this.runSync());
  }

  private runSync(): void {
    this.syncScheduled = false;
    if (this.isClosed) return;
    let handled = 0;
    try {
      handled = this.syncRound();
    } catch (err) {
      // A backend read failed: try again a little later rather than spin.
      this.logger.warn("watch: sync round failed; retrying", { error: String(err) });
      if (this.retryTimer === undefined) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.scheduleSync();
        }, 100);
        this.retryTimer.unref();
      }
      return;
    }
    // Progress made and more to do: another round after the event loop has had its turn.
    if (handled > 0 && this.unsynced.size > 0) this.scheduleSync();
    else this.wakeIdle();
  }

  private wakeIdle(): void {
    if (this.syncScheduled || this.retryTimer !== undefined) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

const EMPTY_EVENTS: Event[] = [];

/** `w`'s view of `evs`: filtered, with prevKv attached or stripped as it asked. */
function shape(w: Watcher, evs: Event[], prev: PrevKvCache): Event[] {
  const out: Event[] = [];
  for (const ev of evs) {
    if (ev.type === EventType.PUT ? w.noPut : w.noDelete) continue;
    if (w.prevKv) out.push(prev.withPrev(ev));
    else out.push(ev.prevKv === undefined ? ev : prev.without(ev));
  }
  return out;
}

/** prevKv lookups for one batch of events, each done once however many watchers want it. */
class PrevKvCache {
  private readonly withPrevs = new Map<Event, Event>();
  private readonly withouts = new Map<Event, Event>();

  constructor(private readonly kv: WatchableKV) {}

  withPrev(ev: Event): Event {
    if (ev.prevKv !== undefined) return ev;
    let out = this.withPrevs.get(ev);
    if (out === undefined) {
      const p = this.lookup(ev);
      out = p === undefined ? ev : { type: ev.type, kv: ev.kv, prevKv: p };
      this.withPrevs.set(ev, out);
    }
    return out;
  }

  without(ev: Event): Event {
    let out = this.withouts.get(ev);
    if (out === undefined) this.withouts.set(ev, (out = { type: ev.type, kv: ev.kv }));
    return out;
  }

  private lookup(ev: Event): KeyValue | undefined {
    // A creation has nothing before it.
    if (ev.type === EventType.PUT && ev.kv.version === 1) return undefined;
    const at = ev.kv.modRevision - 1;
    if (at < 1) return undefined;
    try {
      return this.kv.range(ev.kv.key, undefined, { rev: at }).kvs[0];
    } catch (err) {
      if (err instanceof CompactedError) return undefined;
      throw err;
    }
  }
}
