// Watches over one Watch stream, as clientv3's watcher runs them: creations one at a time (the server
// answers them in order), responses routed by watch ID (progress notifications with ID -1 to all), and,
// when the stream breaks with UNAVAILABLE or INTERNAL, a new stream on another endpoint where every
// watcher resumes after the last revision it saw. Any other stream error (or "no leader") ends all
// watchers with that error.
//
// A watcher's `onResponse` sees each response (never the creation); `onClose` is called once, with the
// error that ended it (undefined for a plain server-side cancel).

import * as grpc from "@grpc/grpc-js";
import { type WatchRequest, type WatchResponse, WatchService } from "../../api/gen/etcdserverpb/rpc.js";
import type { Conn } from "./conn.js";
import { fromGrpc, isEtcdError, RpcError } from "./errors.js";
import type { WatchResp } from "./printer.js";

export interface WatchOptions {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  startRevision: bigint;
  prevKv: boolean;
  progressNotify: boolean;
  /** Server-side filters (0: no put, 1: no delete). */
  filters?: number[];
}

export interface Watcher {
  /** A response to show; `err` set when it also ends the watcher (compaction, cancel). */
  onResponse(r: WatchResp, err: string | undefined): void;
  onClose(err: string | undefined): void;
}

interface Sub {
  opts: WatchOptions;
  w: Watcher;
  id: bigint | undefined;
  /** The revision to resume from. */
  nextRev: bigint;
  closed: boolean;
}

const COMPACTED = "etcdserver: mvcc: required revision has been compacted";
const FUTURE = "etcdserver: mvcc: required revision is a future revision";

/** WatchResponse.Err() text of a cancel with a reason (rpctypes' mapping of a FailedPrecondition). */
function cancelReasonError(reason: string): string {
  return isEtcdError(reason) ? reason : `rpc error: code = FailedPrecondition desc = ${reason}`;
}

export class WatchStream {
  private stream: grpc.ClientDuplexStream<WatchRequest, WatchResponse> | undefined;
  private readonly subs: Sub[] = [];
  private readonly pending: Sub[] = [];
  private creating: Sub | undefined;
  private closed = false;
  /** A connect() is under way (watchers added meanwhile wait in `pending`). */
  private connecting = false;
  private backoff = 100;

  constructor(
    private readonly conn: Conn,
    private readonly requireLeader = true,
  ) {}

  /** Starts a watcher. */
  watch(opts: WatchOptions, w: Watcher): { cancel(): void } {
    const sub: Sub = { opts, w, id: undefined, nextRev: opts.startRevision, closed: false };
    this.subs.push(sub);
    this.pending.push(sub);
    if (this.stream === undefined) {
      if (!this.connecting) void this.connect();
    } else this.createNext();
    return { cancel: () => this.cancel(sub) };
  }

  /** Asks the server for a progress notification on every watcher. */
  requestProgress(): void {
    this.stream?.write({ requestUnion: { $case: "progressRequest", value: {} } });
  }

  close(): void {
    this.closed = true;
    this.stream?.cancel();
  }

  private cancel(sub: Sub): void {
    if (sub.closed) return;
    if (sub.id !== undefined) {
      this.stream?.write({ requestUnion: { $case: "cancelRequest", value: { watchId: sub.id } } });
    }
    this.finish(sub, undefined);
  }

  private finish(sub: Sub, err: string | undefined): void {
    if (sub.closed) return;
    sub.closed = true;
    const i = this.subs.indexOf(sub);
    if (i >= 0) this.subs.splice(i, 1);
    sub.w.onClose(err);
  }

  private async connect(): Promise<void> {
    const md: Record<string, string> = this.requireLeader ? { hasleader: "true" } : {};
    let s: grpc.ClientDuplexStream<WatchRequest, WatchResponse> | undefined;
    this.connecting = true;
    try {
      s = await this.conn.bidi(WatchService.watch, undefined, md);
    } catch (e) {
      this.failAll(fromGrpc(e).message);
      return;
    } finally {
      this.connecting = false;
    }
    if (s === undefined || this.closed) return;
    this.stream = s;
    s.on("data", (r: WatchResponse) => this.onData(r));
    s.on("error", (e: grpc.ServiceError) => this.onStreamError(s!, e));
    s.on("end", () => this.onStreamError(s!, undefined));
    this.createNext();
  }

  private onStreamError(
    s: grpc.ClientDuplexStream<WatchRequest, WatchResponse>,
    e: grpc.ServiceError | undefined,
  ): void {
    if (this.stream !== s || this.closed) return;
    this.stream = undefined;
    const err = e === undefined ? new RpcError("EOF", grpc.status.UNKNOWN, "") : fromGrpc(e);
    const retry =
      e !== undefined &&
      (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.INTERNAL) &&
      !err.is("etcdserver: no leader");
    if (!retry) {
      this.failAll(err.message);
      return;
    }
    // Resume every watcher on a new stream after the last revision it saw.
    this.creating = undefined;
    this.pending.length = 0;
    for (const sub of this.subs) {
      sub.id = undefined;
      this.pending.push(sub);
    }
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, 2000);
    this.connecting = true;
    setTimeout(() => void this.connect(), wait);
  }

  private failAll(err: string): void {
    for (const sub of [...this.subs]) this.finish(sub, err);
    this.pending.length = 0;
    this.creating = undefined;
  }

  private createNext(): void {
    if (this.creating !== undefined || this.stream === undefined) return;
    const sub = this.pending.shift();
    if (sub === undefined) return;
    this.creating = sub;
    const o = sub.opts;
    this.stream.write({
      requestUnion: {
        $case: "createRequest",
        value: {
          key: o.key,
          rangeEnd: o.rangeEnd,
          startRevision: sub.nextRev,
          progressNotify: o.progressNotify,
          filters: o.filters ?? [],
          prevKv: o.prevKv,
          watchId: 0n,
          fragment: false,
        },
      },
    });
  }

  private onData(r: WatchResponse): void {
    this.backoff = 100;
    if (r.created) {
      const sub = this.creating;
      this.creating = undefined;
      if (sub !== undefined && !sub.closed) {
        if (r.watchId === -1n || (r.canceled && r.cancelReason !== "")) {
          this.finish(sub, cancelReasonError(r.cancelReason));
        } else {
          sub.id = r.watchId;
          if (sub.nextRev === 0n) sub.nextRev = (r.header?.revision ?? 0n) + 1n;
        }
      }
      this.createNext();
      return;
    }
    if (r.canceled && r.compactRevision === 0n) {
      const sub = this.subs.find((s) => s.id === r.watchId);
      if (sub) this.finish(sub, r.cancelReason ? cancelReasonError(r.cancelReason) : undefined);
      return;
    }
    const wr: WatchResp = {
      header: r.header ?? { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n },
      events: r.events,
      compactRevision: r.compactRevision,
      canceled: r.canceled,
      created: false,
    };
    const progress =
      wr.events.length === 0 && !wr.canceled && wr.compactRevision === 0n && wr.header.revision !== 0n;
    if (progress && r.watchId === -1n) {
      for (const s of [...this.subs]) if (s.id !== undefined) this.deliver(s, wr, "");
      return;
    }
    const sub = this.subs.find((s) => s.id === r.watchId);
    if (sub === undefined) {
      this.stream?.write({ requestUnion: { $case: "cancelRequest", value: { watchId: r.watchId } } });
      return;
    }
    this.deliver(sub, wr, r.cancelReason);
  }

  private deliver(sub: Sub, wr: WatchResp, cancelReason: string): void {
    if (wr.events.length > 0) sub.nextRev = wr.events[wr.events.length - 1]!.kv!.modRevision + 1n;
    else if (wr.header.revision !== 0n) sub.nextRev = wr.header.revision + 1n;
    let err: string | undefined;
    if (wr.compactRevision !== 0n) err = COMPACTED;
    else if (wr.canceled) err = cancelReason ? cancelReasonError(cancelReason) : FUTURE;
    sub.w.onResponse(wr, err);
    if (err !== undefined) this.finish(sub, undefined);
  }
}
