// The watch stream: one gRPC Watch stream per client carries every watch. Creates go out one at a time
// and are matched to etcd's `created` answers in order (as clientv3 does: the server answers creates in
// the order it receives them). When the stream breaks, its member loses its leader, or a watch is
// canceled for a transient reason, the stream is reopened on the next endpoint and every watch is
// re-created from its nextRevision (one past the last event it delivered), so no event is lost; the
// watcher drops anything below nextRevision, so none is repeated.
//
// nextRevision only advances on delivered events, on the watch's own progress notifications (etcd sends
// those only once the watch has caught up), and, for a watch "from now", to one past the revision it was
// created at. The stream-wide progress answer to requestProgress() (watch ID -1) is passed on but does
// not advance it: etcd 3.4 sends that one without checking that every watch has caught up.

import type { ClientDuplexStream } from "@grpc/grpc-js";
import {
  type WatchResponse as PbWatchResponse,
  WatchCreateRequest_FilterType,
  type WatchRequest,
} from "../api/gen/etcdserverpb/rpc.js";
import { type Bytes, toBigInt } from "./bytes.js";
import type { CallOptions, Connection } from "./connection.js";
import { canceled } from "./connection.js";
import type { Endpoint } from "./endpoints.js";
import {
  EtcdClientClosedError,
  type EtcdCompactedError,
  EtcdDeadlineExceededError,
  type EtcdError,
  EtcdUnavailableError,
  EtcdWatchCanceledError,
  etcdErrorFromMessage,
  Status,
  toClientError,
} from "./errors.js";
import { rangeOf } from "./requests.js";
import { backoffMs, needsNewToken, shouldFailover } from "./retry.js";
import { toHeader } from "./types.js";
import { Watcher, type WatcherSpec, type WatchOptions } from "./watcher.js";

export { type WatchEvent, Watcher, type WatchOptions, type WatchResponse } from "./watcher.js";

/** etcd's ID for "no particular watch" (failed creates, stream-wide progress). */
const NO_WATCH_ID = -1n;

/** A create unanswered this long means the member does not serve the stream: move to another. */
const CREATE_STALL_MS = 5000;

type Stream = ClientDuplexStream<WatchRequest, PbWatchResponse>;

interface CreateWaiter {
  resolve: () => void;
  reject: (e: EtcdError) => void;
}

export class WatchManager {
  private stream: Stream | undefined;
  private streamEp: Endpoint | undefined;
  private opening = false;
  /** Watches confirmed on the current stream, by the server's watch ID. */
  private readonly active = new Map<bigint, Watcher>();
  /** Watches to (re)create, in order. */
  private pending: Watcher[] = [];
  /** The watch whose create was sent and is not yet answered. */
  private creating: Watcher | undefined;
  /** Callers of watch() waiting for the first `created`. */
  private readonly waiters = new Map<Watcher, CreateWaiter>();
  /** Watches that lost their stream and have not been re-created yet (for the "resumed" event). */
  private readonly resuming = new Set<Watcher>();
  /** IDs we sent a cancel for, so stray responses of them do not trigger another. */
  private readonly cancelSent = new Set<bigint>();
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Fires when the create in flight goes unanswered for CREATE_STALL_MS. */
  private createTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private lastError: EtcdError | undefined;

  constructor(private readonly conn: Connection) {}

  /** Creates a watch; resolves once etcd confirmed it (so changes made afterwards are seen). */
  watch(key: Bytes, opts: WatchOptions & CallOptions = {}): Promise<Watcher> {
    this.conn.assertOpen();
    const r = rangeOf(key, opts);
    const filters: WatchCreateRequest_FilterType[] = [];
    if (opts.noPut) filters.push(WatchCreateRequest_FilterType.NOPUT);
    if (opts.noDelete) filters.push(WatchCreateRequest_FilterType.NODELETE);
    const spec: WatcherSpec = {
      key: r.key,
      rangeEnd: r.rangeEnd,
      prevKv: opts.prevKv ?? false,
      progressNotify: opts.progressNotify ?? false,
      noPut: opts.noPut ?? false,
      noDelete: opts.noDelete ?? false,
      fragment: opts.fragment ?? true,
    };
    const start = opts.startRevision === undefined ? 0n : toBigInt(opts.startRevision);
    const w = new Watcher(spec, start, (x) => this.cancel(x));
    const timeoutMs = opts.timeoutMs ?? this.conn.requestTimeoutMs;
    return new Promise<Watcher>((resolve, reject) => {
      const fail = (e: EtcdError) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        this.waiters.delete(w);
        this.drop(w);
        w.finish(e);
        reject(e);
      };
      const timer = setTimeout(
        () =>
          fail(
            this.lastError ??
              new EtcdDeadlineExceededError(
                "etcdclient: watch not created in time",
                Status.DEADLINE_EXCEEDED,
              ),
          ),
        timeoutMs,
      );
      const onAbort = () => fail(canceled(opts.signal!));
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.set(w, {
        resolve: () => {
          clearTimeout(timer);
          opts.signal?.removeEventListener("abort", onAbort);
          this.waiters.delete(w);
          resolve(w);
        },
        reject: fail,
      });
      this.pending.push(w);
      this.pump();
    });
  }

  /** Asks the server for a progress notification on the stream (delivered to every watch). */
  requestProgress(): void {
    this.stream?.write({ requestUnion: { $case: "progressRequest", value: {} } });
  }

  /** Ends every watch (cleanly) and the stream. */
  close(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const all = new Set<Watcher>([...this.active.values(), ...this.pending]);
    if (this.creating !== undefined) all.add(this.creating);
    this.active.clear();
    this.pending = [];
    this.creating = undefined;
    for (const waiter of [...this.waiters.values()]) waiter.reject(new EtcdClientClosedError());
    for (const w of all) w.finish();
    this.dropStream();
  }

  // ---- internals -----------------------------------------------------------------------------------

  private cancel(w: Watcher): Promise<void> {
    const id = w.id;
    this.drop(w);
    w.finish();
    if (id !== undefined && this.stream !== undefined) this.sendCancel(id);
    this.maybeCloseStream();
    return Promise.resolve();
  }

  /** Forgets `w` wherever it is (a create in flight is canceled when its answer arrives). */
  private drop(w: Watcher): void {
    this.pending = this.pending.filter((x) => x !== w);
    if (w.id !== undefined && this.active.get(w.id) === w) this.active.delete(w.id);
    this.resuming.delete(w);
  }

  private sendCancel(id: bigint): void {
    if (this.cancelSent.has(id)) return;
    this.cancelSent.add(id);
    this.stream?.write({ requestUnion: { $case: "cancelRequest", value: { watchId: id } } });
  }

  /** Sends the next create if none is in flight. */
  private pump(): void {
    if (this.creating !== undefined) return;
    this.pending = this.pending.filter((w) => !w.isDone);
    if (this.pending.length === 0) {
      this.maybeCloseStream();
      return;
    }
    const s = this.ensureStream();
    if (s === undefined) return;
    const w = this.pending.shift()!;
    this.creating = w;
    const ep = this.streamEp!;
    this.createTimer = setTimeout(() => {
      this.createTimer = undefined;
      if (this.stream === s && this.creating === w) {
        this.restart(
          ep,
          new EtcdUnavailableError("etcdclient: watch create not answered", Status.UNAVAILABLE, {
            endpoint: ep.url,
          }),
        );
        this.pump();
      }
    }, CREATE_STALL_MS);
    const filters: WatchCreateRequest_FilterType[] = [];
    if (w.spec.noPut) filters.push(WatchCreateRequest_FilterType.NOPUT);
    if (w.spec.noDelete) filters.push(WatchCreateRequest_FilterType.NODELETE);
    s.write({
      requestUnion: {
        $case: "createRequest",
        value: {
          key: w.spec.key,
          rangeEnd: w.spec.rangeEnd,
          startRevision: w.nextRevision,
          progressNotify: w.spec.progressNotify,
          filters,
          prevKv: w.spec.prevKv,
          watchId: 0n,
          fragment: w.spec.fragment,
        },
      },
    });
  }

  /** The open stream, or undefined while one is being opened or a reconnect is scheduled. */
  private ensureStream(): Stream | undefined {
    if (this.stream !== undefined) return this.stream;
    if (this.opening || this.reconnectTimer !== undefined || this.conn.isClosed) return undefined;
    this.opening = true;
    this.conn.ensureToken().then(
      () => {
        this.opening = false;
        if (this.conn.isClosed) return;
        this.open();
        this.pump();
      },
      (err: unknown) => {
        this.opening = false;
        this.lastError = toClientError(err);
        this.scheduleReconnect();
      },
    );
    return undefined;
  }

  private open(): void {
    const ep = this.conn.pool.pick();
    const s = ep.watch.watch(this.conn.metadata(true));
    this.stream = s;
    this.streamEp = ep;
    this.cancelSent.clear();
    s.on("data", (r: PbWatchResponse) => this.onResponse(s, ep, r));
    s.on("error", (err: unknown) => this.onStreamEnd(s, ep, err));
    s.on("end", () => this.onStreamEnd(s, ep, undefined));
  }

  private onResponse(s: Stream, ep: Endpoint, r: PbWatchResponse): void {
    if (s !== this.stream) return;
    const header = toHeader(r.header);
    if (r.created) {
      const w = this.creating;
      this.creating = undefined;
      this.clearCreateTimer();
      if (w === undefined) return;
      if (r.canceled || r.watchId === NO_WATCH_ID) {
        const err = cancelError(r, ep);
        if ((err instanceof EtcdUnavailableError || needsNewToken(err)) && !w.isDone) {
          // e.g. "etcdserver: no leader" (go elsewhere) or an expired token (authenticate again).
          this.pending.unshift(w);
          this.restart(ep, err);
          return;
        }
        this.fail(w, err);
      } else if (w.isDone) {
        this.sendCancel(r.watchId);
      } else {
        this.attempt = 0;
        this.lastError = undefined;
        this.conn.pool.succeeded(ep);
        this.active.set(r.watchId, w);
        w.onCreated(r.watchId, header.revision);
        this.waiters.get(w)?.resolve();
        if (this.resuming.delete(w)) w.onResumed();
      }
      this.pump();
      return;
    }
    if (r.watchId === NO_WATCH_ID && !r.canceled) {
      for (const w of this.active.values()) w.onProgress(header, false);
      return;
    }
    const w = this.active.get(r.watchId);
    if (w === undefined) {
      if (r.canceled) this.cancelSent.delete(r.watchId);
      else this.sendCancel(r.watchId);
      return;
    }
    if (r.canceled) {
      this.active.delete(r.watchId);
      const err = cancelError(r, ep);
      if (err instanceof EtcdUnavailableError) {
        w.onDisconnected();
        this.resuming.add(w);
        this.pending.push(w);
        this.pump();
      } else {
        this.fail(w, err);
      }
      this.maybeCloseStream();
      return;
    }
    if (r.events.length > 0 || r.fragment) w.onEvents(header, r.events, r.fragment);
    else w.onProgress(header, true);
  }

  private onStreamEnd(s: Stream, ep: Endpoint, raw: unknown): void {
    if (s !== this.stream) return;
    const err =
      raw === undefined
        ? new EtcdUnavailableError("etcdclient: watch stream ended by the server", Status.UNAVAILABLE, {
            endpoint: ep.url,
          })
        : toClientError(raw, { endpoint: ep.url });
    this.restart(ep, err);
  }

  /**
   * The stream on `ep` is unusable: forget it, put every watch back in line (in its order) to be
   * re-created from its nextRevision, and reconnect after a backoff. Errors no other member can cure
   * (UNIMPLEMENTED, permission denied, ...) end the watches instead.
   */
  private restart(ep: Endpoint, err: EtcdError): void {
    this.lastError = err;
    this.clearCreateTimer();
    const s = this.stream;
    this.stream = undefined;
    this.streamEp = undefined;
    if (s !== undefined) {
      s.removeAllListeners("data");
      s.on("error", () => {});
      s.cancel();
    }
    const lost = [...this.active.values()];
    if (this.creating !== undefined) lost.push(this.creating);
    this.active.clear();
    this.creating = undefined;
    const again = [...lost, ...this.pending].filter((w) => !w.isDone);
    this.pending = [];
    if (this.conn.isClosed) return;
    const transient = shouldFailover(err) || err instanceof EtcdUnavailableError;
    const reauth = needsNewToken(err);
    if (!transient && !reauth) {
      for (const w of again) this.fail(w, err);
      return;
    }
    if (transient) this.conn.pool.failed(ep);
    for (const w of lost) {
      w.onDisconnected();
      this.resuming.add(w);
    }
    this.pending = again;
    if (reauth) {
      this.opening = true;
      this.conn.refreshToken(this.conn.authToken).then(
        () => {
          this.opening = false;
          this.pump();
        },
        (e: unknown) => {
          this.opening = false;
          this.lastError = toClientError(e);
          this.scheduleReconnect();
        },
      );
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== undefined || this.conn.isClosed) return;
    const wait = backoffMs(this.attempt++, 1000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.pump();
    }, wait);
  }

  private fail(w: Watcher, err: EtcdError): void {
    this.drop(w);
    const waiter = this.waiters.get(w);
    if (waiter !== undefined) waiter.reject(err);
    else w.finish(err);
  }

  /** With no watch left, the stream is closed (the next watch opens a new one). */
  private maybeCloseStream(): void {
    if (this.active.size > 0 || this.pending.length > 0 || this.creating !== undefined) return;
    this.dropStream();
  }

  private clearCreateTimer(): void {
    if (this.createTimer !== undefined) clearTimeout(this.createTimer);
    this.createTimer = undefined;
  }

  private dropStream(): void {
    this.clearCreateTimer();
    const s = this.stream;
    this.stream = undefined;
    this.streamEp = undefined;
    if (s === undefined) return;
    s.removeAllListeners("data");
    s.on("error", () => {});
    s.cancel();
  }
}

/** The error a canceled watch response stands for. */
function cancelError(r: PbWatchResponse, ep: Endpoint): EtcdError {
  if (r.compactRevision > 0n) {
    const e = etcdErrorFromMessage("etcdserver: mvcc: required revision has been compacted", undefined, {
      endpoint: ep.url,
    }) as EtcdCompactedError;
    e.compactRevision = r.compactRevision;
    return e;
  }
  const reason = r.cancelReason;
  if (reason === "") {
    return new EtcdWatchCanceledError("etcdserver: watch canceled", Status.CANCELLED, { endpoint: ep.url });
  }
  return (
    etcdErrorFromMessage(reason, undefined, { endpoint: ep.url }) ??
    new EtcdWatchCanceledError(reason, Status.CANCELLED, { endpoint: ep.url })
  );
}
