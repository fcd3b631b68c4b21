// One client watch stream (etcd's serverWatchStream) without a transport: WatchRequests in (create,
// cancel, progress), etcdserverpb WatchResponses out to a sink with backpressure. The gRPC Watch call and
// the gateway's /v3/watch each drive one.

import { type CallCredentials, currentCredentials } from "../auth/call_context.js";
import type { WatchRequest, WatchResponse, WatchStream } from "../mvcc/watch/index.js";
import { eventToPb } from "../server/convert.js";
import { ErrGRPCCompacted } from "../server/errors.js";
import type * as pb from "./gen/etcdserverpb/rpc.js";
import { WatchCreateRequest_FilterType } from "./gen/etcdserverpb/rpc.js";
import type { V3Rpc } from "./v3rpc.js";

/** etcd's clientv3.InvalidWatchID: the ID of a create that failed. */
export const INVALID_WATCH_ID = -1n;

/** Where a session's responses go. */
export interface WatchSink {
  /** Sends (or queues) a response; false asks the session to wait for drained() before the next. */
  write(r: pb.WatchResponse): boolean;
  /** Resolves when the sink takes more (or is gone). */
  drained(): Promise<void>;
}

export class WatchSession {
  private readonly ws: WatchStream;
  private closed = false;
  /** The credentials of the call that opened the stream (watch creates are checked against them). */
  private readonly creds: CallCredentials = currentCredentials();
  /** While auth checks are in flight, requests wait here so they are still handled in order. */
  private queue: Promise<void> | undefined;
  /** Requests in `queue` not handled yet (the queue is dropped when it empties). */
  private queued = 0;

  constructor(
    private readonly rpc: V3Rpc,
    private readonly sink: WatchSink,
  ) {
    this.ws = rpc.server.watchable.watchStream();
  }

  /** Moves responses from the watch stream to the sink until close(). */
  async run(): Promise<void> {
    for (;;) {
      const r = await this.ws.next();
      if (r === undefined || this.closed) return;
      if (!this.sink.write(this.toPb(r))) await this.sink.drained();
    }
  }

  /** Handles one request of the client; unknown or empty requests are ignored, as etcd does. */
  handle(req: pb.WatchRequest): void {
    if (this.closed) return;
    const u = req.requestUnion;
    // With auth on, a create first checks the caller's read access to the range (asynchronously: a
    // token may have to be looked up), and the requests after it wait their turn.
    if (this.queue !== undefined || (u?.$case === "createRequest" && this.rpc.server.auth?.isEnabled())) {
      this.queued++;
      this.queue = (this.queue ?? Promise.resolve())
        .then(() => this.handleChecked(req))
        .catch(() => this.close())
        .finally(() => {
          if (--this.queued === 0) this.queue = undefined;
        });
      return;
    }
    this.handleNow(req);
  }

  private async handleChecked(req: pb.WatchRequest): Promise<void> {
    const u = req.requestUnion;
    if (u?.$case === "createRequest") {
      const reason = await this.rpc.watchRefusal(u.value, this.creds);
      if (this.closed) return;
      if (reason !== undefined) {
        this.refuse(reason);
        return;
      }
    }
    this.handleNow(req);
  }

  private handleNow(req: pb.WatchRequest): void {
    if (this.closed) return;
    const u = req.requestUnion;
    switch (u?.$case) {
      case "createRequest":
        this.create(u.value);
        return;
      case "cancelRequest": {
        const id = u.value.watchId;
        // A cancel of an unknown watch is not answered (etcd's recvLoop).
        if (id >= 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) && this.ws.watchIds().includes(Number(id))) {
          this.ws.cancel(Number(id));
        }
        return;
      }
      case "progressRequest":
        this.ws.requestProgressAll();
        return;
    }
  }

  /** Cancels every watch of the session and ends run(). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close();
  }

  private create(c: pb.WatchCreateRequest): void {
    if (c.startRevision < 0n) {
      this.refuse(ErrGRPCCompacted.message);
      return;
    }
    if (c.watchId < 0n || c.watchId > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.refuse(`watch: invalid watch ID ${c.watchId}`);
      return;
    }
    const req: WatchRequest = {
      key: c.key,
      rangeEnd: c.rangeEnd,
      startRev:
        c.startRevision > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(c.startRevision),
      filters: {
        noPut: c.filters.includes(WatchCreateRequest_FilterType.NOPUT),
        noDelete: c.filters.includes(WatchCreateRequest_FilterType.NODELETE),
      },
      prevKv: c.prevKv,
      progressNotify: c.progressNotify,
      fragment: c.fragment,
      watchId: Number(c.watchId),
    };
    try {
      // The stream queues the `created` response itself, ahead of the watch's events.
      this.ws.watch(req);
    } catch (err) {
      this.refuse(err instanceof Error ? err.message : String(err));
    }
  }

  /** A create that failed: watch ID -1, created and canceled, the reason in cancel_reason (etcd's). */
  private refuse(reason: string): void {
    this.sink.write({
      header: this.headerAt(this.ws.rev()),
      watchId: INVALID_WATCH_ID,
      created: true,
      canceled: true,
      compactRevision: 0n,
      cancelReason: reason,
      fragment: false,
      events: [],
    });
  }

  private headerAt(rev: number): pb.ResponseHeader {
    return { ...this.rpc.header(), revision: BigInt(rev) };
  }

  private toPb(r: WatchResponse): pb.WatchResponse {
    return {
      header: this.headerAt(r.revision),
      watchId: BigInt(r.watchId),
      created: r.created,
      canceled: r.canceled,
      compactRevision: BigInt(r.compactRevision),
      cancelReason: r.cancelReason ?? "",
      fragment: r.fragment,
      events: r.events.map(eventToPb),
    };
  }
}
