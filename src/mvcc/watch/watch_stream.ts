// A watch stream: the watches of one client stream (one gRPC Watch call) and the bounded queue of responses
// waiting for its consumer. The store puts responses in; the consumer takes them out (next(), for await,
// take()). When the queue is full the store stops giving this stream's watchers live events and catches
// them up from history once the consumer has taken some: a slow consumer costs its own stream's queue
// and nothing else (no write waits, no other stream waits, no event is held in memory for it).

import { keySpan } from "../key_index.js";
import {
  DuplicateWatchIdError,
  EmptyWatcherRangeError,
  WatcherNotExistError,
  WatchStreamClosedError,
} from "./errors.js";
import { fragmentResponse, responseSize } from "./fragment.js";
import { PROGRESS_ALL_WATCH_ID, type WatchRequest, type WatchResponse } from "./types.js";
import { Watcher } from "./watcher_group.js";

/** What a stream needs from its store (WatchableStore passes one). */
export interface WatchStreamHost {
  rev(): number;
  /** Puts a new watcher in the synced or unsynced group according to its start revision. */
  register(w: Watcher, startRev: number): void;
  /** Takes a watcher out of its group for good. */
  unregister(w: Watcher): void;
  /** The stream has room again and has parked watchers: catch them up. */
  roomFreed(s: WatchStream): void;
  closed(s: WatchStream): void;
  readonly maxResponseBytes: number;
}

interface Queued {
  resp: WatchResponse;
  bytes: number;
}

const SMALLEST_KEY = new Uint8Array([0]);

export class WatchStream implements AsyncIterable<WatchResponse> {
  private readonly watchers = new Map<number, Watcher>();
  private nextId = 0;
  private queue: (Queued | undefined)[] = [];
  private head = 0;
  private bytes = 0;
  private readonly waiters: ((r: WatchResponse | undefined) => void)[] = [];
  private isClosed = false;
  /** requestProgressAll() found a watcher unsynced: answer once all are synced. */
  private deferredProgress = false;
  /** Watchers of this stream that are behind, unsynced or parked (kept by the store). */
  unsyncedCount = 0;
  /** @internal Watchers behind and waiting for room in this queue (kept by the store). */
  readonly parked = new Set<Watcher>();

  /** @internal Made by WatchableStore.watchStream(). */
  constructor(
    private readonly host: WatchStreamHost,
    /** Responses the queue holds before refusing events (control responses are always queued). */
    readonly maxPendingResponses: number,
    /** The same bound in estimated bytes (an empty queue takes any response). */
    readonly maxPendingBytes: number,
  ) {}

  /** The store's current revision (etcd's WatchStream.Rev). */
  rev(): number {
    return this.host.rev();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Responses queued for the consumer. */
  get pendingResponses(): number {
    return this.queue.length - this.head;
  }

  /** Estimated bytes queued for the consumer. */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** True if the stream has a watch with this ID. */
  has(id: number): boolean {
    return this.watchers.has(id);
  }

  /** IDs of the stream's watches. */
  watchIds(): number[] {
    return [...this.watchers.keys()];
  }

  /**
   * Starts a watch; returns its ID. A `created` response is queued first; then events from startRev on
   * (history first if startRev is not in the future). Throws EmptyWatcherRangeError, DuplicateWatchIdError,
   * WatchStreamClosedError.
   */
  watch(req: WatchRequest): number {
    if (this.isClosed) throw new WatchStreamClosedError();
    const span = keySpan(req.key.length === 0 ? SMALLEST_KEY : req.key, req.rangeEnd);
    if (!span.single && span.end !== undefined && span.end <= span.start) throw new EmptyWatcherRangeError();
    let id = req.watchId ?? 0;
    if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`watch: invalid watch ID ${id}`);
    if (id === 0) {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    } else if (this.watchers.has(id)) {
      throw new DuplicateWatchIdError();
    }
    const startRev = Math.max(0, req.startRev ?? 0);
    const w = new Watcher(
      id,
      this,
      span,
      startRev,
      req.filters?.noPut ?? false,
      req.filters?.noDelete ?? false,
      req.prevKv ?? false,
      req.progressNotify ?? false,
      req.fragment ?? false,
    );
    this.watchers.set(id, w);
    this.pushControl({ ...blank(id, this.host.rev()), created: true });
    this.host.register(w, startRev);
    return id;
  }

  /**
   * Ends a watch: responses of it not yet taken are dropped (its `created` response excepted) and a
   * `canceled` response is queued; nothing else for the ID follows. Throws WatcherNotExistError.
   */
  cancel(id: number): void {
    const w = this.watchers.get(id);
    if (w === undefined) throw new WatcherNotExistError();
    this.remove(w);
    this.dropQueued(id);
    this.pushControl({ ...blank(id, this.host.rev()), canceled: true });
    this.checkDeferredProgress();
  }

  /**
   * Queues a progress notification for one watch if it is synced (every event through the current
   * revision queued), as etcd does; returns whether it did. Throws WatcherNotExistError.
   */
  requestProgress(id: number): boolean {
    const w = this.watchers.get(id);
    if (w === undefined) throw new WatcherNotExistError();
    if (w.group !== "synced") return false;
    this.pushControl(blank(id, this.host.rev()));
    return true;
  }

  /**
   * Queues one progress notification for the whole stream (watch ID -1) once every watch on it is synced:
   * now (returns true), or as soon as the last unsynced one catches up (returns false).
   */
  requestProgressAll(): boolean {
    if (this.isClosed) throw new WatchStreamClosedError();
    if (this.unsyncedCount > 0) {
      this.deferredProgress = true;
      return false;
    }
    this.deferredProgress = false;
    this.pushControl(blank(PROGRESS_ALL_WATCH_ID, this.host.rev()));
    return true;
  }

  /** The next response without waiting, or undefined if none is queued. */
  take(): WatchResponse | undefined {
    if (this.head >= this.queue.length) return undefined;
    const q = this.queue[this.head]!;
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.bytes -= q.bytes;
    if (this.parked.size > 0 && this.hasRoom()) this.host.roomFreed(this);
    return q.resp;
  }

  /** The next response, waiting for one; undefined once the stream is closed. */
  next(): Promise<WatchResponse | undefined> {
    const r = this.take();
    if (r !== undefined || this.isClosed) return Promise.resolve(r);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Iterates the responses until the stream is closed. Leaving the loop early does not close the stream. */
  [Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    return {
      next: async (): Promise<IteratorResult<WatchResponse>> => {
        const r = await this.next();
        return r === undefined ? { done: true, value: undefined } : { done: false, value: r };
      },
    };
  }

  /** Calls `fn` with each response, waiting for what it returns before the next one, until closed. */
  async consume(fn: (r: WatchResponse) => void | Promise<void>): Promise<void> {
    for (;;) {
      const r = await this.next();
      if (r === undefined) return;
      await fn(r);
    }
  }

  /** Cancels every watch, drops queued responses and ends iteration. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const w of this.watchers.values()) this.host.unregister(w);
    this.watchers.clear();
    this.queue = [];
    this.head = 0;
    this.bytes = 0;
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
    this.host.closed(this);
  }

  // ---- used by the store -----------------------------------------------------------------------------

  /** @internal The queue may take an event response now. */
  hasRoom(): boolean {
    const n = this.queue.length - this.head;
    return n === 0 || (n < this.maxPendingResponses && this.bytes < this.maxPendingBytes);
  }

  /** @internal The stream's watchers, for the store's periodic progress. */
  watcherList(): IterableIterator<Watcher> {
    return this.watchers.values();
  }

  /** @internal Queues events of `w` (fragmented if it asked), `revision` being how far it now is. */
  pushEvents(w: Watcher, events: WatchResponse["events"], revision: number): void {
    w.sentSinceTick = true;
    const r: WatchResponse = { ...blank(w.id, revision), events };
    if (!w.fragment) {
      this.push(r, responseSize(r));
      return;
    }
    for (const part of fragmentResponse(r, this.host.maxResponseBytes)) this.push(part, responseSize(part));
  }

  /** @internal Queues a progress notification for `w` (periodic progress). */
  pushProgress(w: Watcher, revision: number): void {
    this.pushControl(blank(w.id, revision));
  }

  /** @internal `w` fell behind compaction: cancel it with the compaction revision. */
  pushCompacted(w: Watcher, compactRevision: number, revision: number): void {
    this.remove(w);
    this.pushControl({ ...blank(w.id, revision), canceled: true, compactRevision });
    this.checkDeferredProgress();
  }

  /** @internal A watcher of this stream became synced or left: a deferred progress may be due. */
  checkDeferredProgress(): void {
    if (this.deferredProgress && this.unsyncedCount === 0 && !this.isClosed) {
      this.deferredProgress = false;
      this.pushControl(blank(PROGRESS_ALL_WATCH_ID, this.host.rev()));
    }
  }

  // ---- internals -------------------------------------------------------------------------------------

  /** Forgets `w` (callers queue its canceled response, then check a deferred progress). */
  private remove(w: Watcher): void {
    this.watchers.delete(w.id);
    this.host.unregister(w);
  }

  private pushControl(r: WatchResponse): void {
    this.push(r, responseSize(r));
  }

  private push(resp: WatchResponse, bytes: number): void {
    if (this.isClosed) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      // Someone is waiting, so the queue is empty: hand it over.
      waiter(resp);
      return;
    }
    this.queue.push({ resp, bytes });
    this.bytes += bytes;
  }

  /** Drops the queued responses of watch `id` except its `created` one. */
  private dropQueued(id: number): void {
    const kept: (Queued | undefined)[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const q = this.queue[i]!;
      if (q.resp.watchId === id && !q.resp.created) continue;
      kept.push(q);
      bytes += q.bytes;
    }
    this.queue = kept;
    this.head = 0;
    this.bytes = bytes;
    if (this.parked.size > 0 && this.hasRoom()) this.host.roomFreed(this);
  }
}

function blank(watchId: number, revision: number): WatchResponse {
  return {
    watchId,
    events: [],
    revision,
    created: false,
    canceled: false,
    compactRevision: 0,
    fragment: false,
  };
}
