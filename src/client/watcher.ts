// One watch as the caller sees it: events in revision order, exactly once, across reconnects. The
// stream machinery (watch.ts) feeds it; it keeps `nextRevision`, the revision the watch resumes from
// after a reconnect, and drops any event below it, so an event is never delivered twice even if a
// server replays history.

import { EventEmitter } from "node:events";
import type { Event as PbEvent } from "../api/gen/mvccpb/kv.js";
import { Event_EventType } from "../api/gen/mvccpb/kv.js";
import type { Bytes, Int64 } from "./bytes.js";
import type { EtcdError } from "./errors.js";
import type { RangeSpec } from "./requests.js";
import { type KeyValue, type ResponseHeader, toKeyValue } from "./types.js";

export interface WatchOptions extends RangeSpec {
  /**
   * Deliver events from this revision on (history first). Unset or 0: changes after the watch is
   * created.
   */
  startRevision?: Int64;
  /** Include each event's previous key-value. */
  prevKv?: boolean;
  /** Ask the server for periodic empty responses carrying the current revision ("progress"). */
  progressNotify?: boolean;
  /** Do not deliver puts. */
  noPut?: boolean;
  /** Do not deliver deletes. */
  noDelete?: boolean;
  /** Let the server split huge responses (the client joins the fragments). Default true. */
  fragment?: boolean;
}

export interface WatchEvent {
  type: "put" | "delete";
  /** The key after the event; for a delete, the key with modRevision = the deletion's revision. */
  kv: KeyValue;
  prevKv: KeyValue | undefined;
}

/** One batch of a watch: events (in revision order) or a progress notification (no events). */
export interface WatchResponse {
  header: ResponseHeader;
  events: WatchEvent[];
  /** True for a progress notification: every change up to header.revision has been delivered. */
  progress: boolean;
}

const DATA_EVENTS = ["response", "event", "put", "delete", "progress"] as const;

function toEvent(e: PbEvent): WatchEvent {
  const kv = e.kv ?? {
    key: new Uint8Array(0),
    value: new Uint8Array(0),
    createRevision: 0n,
    modRevision: 0n,
    version: 0n,
    lease: 0n,
  };
  return {
    type: e.type === Event_EventType.DELETE ? "delete" : "put",
    kv: toKeyValue(kv),
    prevKv: e.prevKv ? toKeyValue(e.prevKv) : undefined,
  };
}

/** What the stream needs from a watcher. */
export interface WatcherSpec {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  prevKv: boolean;
  progressNotify: boolean;
  noPut: boolean;
  noDelete: boolean;
  fragment: boolean;
}

/**
 * A watch. Use it as an async iterable of WatchResponse (`for await (const r of watcher)`) or through
 * events: "response" (WatchResponse), "event" (WatchEvent), "put"/"delete" (WatchEvent), "progress"
 * (WatchResponse), "resumed" (the stream was re-established elsewhere), "error" (EtcdError; only emitted
 * when someone listens for it), "end". An error ends the watch: EtcdCompactedError (with the compact
 * revision) when the history it needs is gone, or the server's reason for canceling it.
 */
export class Watcher extends EventEmitter implements AsyncIterable<WatchResponse> {
  /** The server's ID of this watch on the current stream (changes after a reconnect). */
  id: bigint | undefined;
  /** The revision the watch resumes from: one past the last event (or progress) delivered. */
  nextRevision: bigint;
  /** Resolves when the watch ends (cancel, client close); rejects with the error that ended it. */
  readonly done: Promise<void>;
  /** The error that ended the watch, if any. */
  error: EtcdError | undefined;
  private ended = false;
  private settle!: (err?: EtcdError) => void;
  private readonly queue: (WatchResponse | undefined)[] = [];
  private iterating = false;
  private wake: (() => void) | undefined;
  /** Events of a fragmented response, until its last fragment. */
  private fragments: PbEvent[] = [];

  constructor(
    readonly spec: WatcherSpec,
    startRevision: bigint,
    private readonly canceller: (w: Watcher) => Promise<void>,
  ) {
    super();
    this.nextRevision = startRevision;
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
    });
    this.done.catch(() => {});
  }

  /** True once canceled, failed or closed. */
  get isDone(): boolean {
    return this.ended;
  }

  /** Cancels the watch; resolves once the server confirmed (or the stream is gone). */
  cancel(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return this.canceller(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    this.iterating = true;
    return {
      next: async (): Promise<IteratorResult<WatchResponse>> => {
        for (;;) {
          if (this.queue.length > 0) {
            const r = this.queue.shift();
            if (r !== undefined) return { done: false, value: r };
          }
          if (this.ended) {
            if (this.error !== undefined) throw this.error;
            return { done: true, value: undefined };
          }
          await new Promise<void>((r) => {
            this.wake = r;
          });
        }
      },
      return: async (): Promise<IteratorResult<WatchResponse>> => {
        await this.cancel();
        return { done: true, value: undefined };
      },
    };
  }

  // ---- fed by the stream (watch.ts) ----------------------------------------------------------------

  /** @internal The server confirmed the watch at store revision `rev`. */
  onCreated(id: bigint, rev: bigint): void {
    this.id = id;
    this.fragments = [];
    // A watch "from now" resumes after the revision it was created at, so a change made between a
    // disconnect and the resume is still delivered.
    if (this.nextRevision === 0n) this.nextRevision = rev + 1n;
  }

  /** @internal A response with events (or a fragment of one). */
  onEvents(header: ResponseHeader, events: PbEvent[], fragment: boolean): void {
    if (this.ended) return;
    if (fragment) {
      this.fragments.push(...events);
      return;
    }
    const all = this.fragments.length > 0 ? [...this.fragments, ...events] : events;
    this.fragments = [];
    // Exactly once: anything below nextRevision was delivered before a reconnect.
    const fresh = all.filter((e) => (e.kv?.modRevision ?? 0n) >= this.nextRevision);
    if (fresh.length === 0) return;
    this.nextRevision = fresh[fresh.length - 1]!.kv!.modRevision + 1n;
    const r: WatchResponse = { header, events: fresh.map(toEvent), progress: false };
    this.deliver(r);
    for (const e of r.events) {
      this.emit("event", e);
      this.emit(e.type, e);
    }
  }

  /**
   * @internal A progress notification. `advance`: it is this watch's own (the server sends those only
   * when the watch has caught up), so every change up to the revision was delivered.
   */
  onProgress(header: ResponseHeader, advance: boolean): void {
    if (this.ended) return;
    if (advance && header.revision + 1n > this.nextRevision) this.nextRevision = header.revision + 1n;
    const r: WatchResponse = { header, events: [], progress: true };
    this.deliver(r);
    this.emit("progress", r);
  }

  /** @internal The stream was lost; pending fragments are discarded (they will be resent). */
  onDisconnected(): void {
    this.id = undefined;
    this.fragments = [];
  }

  /** @internal */
  onResumed(): void {
    this.emit("resumed");
  }

  /** @internal Ends the watch (with an error, or cleanly). */
  finish(err?: EtcdError): void {
    if (this.ended) return;
    this.ended = true;
    this.error = err;
    this.settle(err);
    if (err !== undefined && this.listenerCount("error") > 0) this.emit("error", err);
    this.emit("end");
    this.wake?.();
    this.wake = undefined;
  }

  private deliver(r: WatchResponse): void {
    this.emit("response", r);
    // Buffered for iteration: while iterating, and before anyone chose how to consume (so an iterator
    // started after some writes still sees them); a watcher consumed only through events keeps nothing.
    if (!this.iterating && DATA_EVENTS.some((n) => this.listenerCount(n) > 0)) return;
    this.queue.push(r);
    this.wake?.();
    this.wake = undefined;
  }
}

export type { Bytes };
