// The automatic lease keep-alive loop: one LeaseKeepAlive stream per client carries the renewals of every
// kept lease. Each lease is renewed at a third of its TTL (as clientv3), on whatever member the stream
// is on; when the stream fails, stalls (a renewal unanswered for a third of the TTL) or its member loses
// its leader, the stream is reopened on the next endpoint and every lease is renewed at once, so leases
// survive a failover as long as some member answers within the TTL.
//
// A lease is reported lost (EtcdLeaseExpiredError) when the server answers a renewal with TTL 0 (expired
// or revoked) or when no renewal was confirmed before the presumed expiry: the time the last confirmed
// renewal was *sent* plus the TTL it granted. From then on its keys must be assumed deleted.

import { EventEmitter } from "node:events";
import type { ClientDuplexStream } from "@grpc/grpc-js";
import type {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse as PbKeepAliveResponse,
} from "../api/gen/etcdserverpb/rpc.js";
import { hexId } from "./bytes.js";
import type { Connection } from "./connection.js";
import type { Endpoint } from "./endpoints.js";
import { EtcdLeaseExpiredError, toClientError } from "./errors.js";
import { backoffMs, needsNewToken, shouldFailover } from "./retry.js";
import { type ResponseHeader, toHeader } from "./types.js";

export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  id: bigint;
  /** The TTL the lease was renewed with, in seconds. */
  ttl: bigint;
}

/** How often the loop looks at its leases (ms). */
const TICK_MS = 100;
/** A renewal unanswered this long (ms) at most means the stream is stuck. */
const MAX_STALL_MS = 3000;
const MIN_STALL_MS = 500;

interface Entry {
  id: bigint;
  handles: Set<LeaseKeepAlive>;
  /** When to send the next renewal (performance.now() ms). */
  nextSendAt: number;
  /** When the unanswered renewal was sent, if one is outstanding. */
  sentAt: number | undefined;
  /** The lease's TTL in ms as last granted (undefined before the first answer). */
  ttlMs: number | undefined;
  /** Presumed expiry (performance.now() ms), undefined before the first answer. */
  deadline: number | undefined;
}

/**
 * A lease being kept alive. Emits "keepalive" (LeaseKeepAliveResponse) on each confirmed renewal and
 * "lost" (EtcdLeaseExpiredError) once if the lease is lost; `lost` is the same as a promise.
 */
export class LeaseKeepAlive extends EventEmitter {
  /** The last confirmed renewal, if any. */
  last: LeaseKeepAliveResponse | undefined;
  /** Resolves (never rejects) with the reason when the lease is lost; never settles after close(). */
  readonly lost: Promise<EtcdLeaseExpiredError>;
  private resolveLost!: (e: EtcdLeaseExpiredError) => void;
  private active = true;

  constructor(
    readonly id: bigint,
    private readonly manager: KeepAliveManager,
  ) {
    super();
    this.lost = new Promise((r) => {
      this.resolveLost = r;
    });
  }

  /** True until close() or loss. */
  get isActive(): boolean {
    return this.active;
  }

  /** Stops keeping the lease alive (it then expires after its TTL unless revoked or renewed). */
  close(): void {
    if (!this.active) return;
    this.active = false;
    this.manager.remove(this);
  }

  /** @internal */
  onRenewed(r: LeaseKeepAliveResponse): void {
    if (!this.active) return;
    this.last = r;
    this.emit("keepalive", r);
  }

  /** @internal */
  onLost(err: EtcdLeaseExpiredError): void {
    if (!this.active) return;
    this.active = false;
    this.resolveLost(err);
    this.emit("lost", err);
  }
}

export class KeepAliveManager {
  private readonly entries = new Map<bigint, Entry>();
  private stream: ClientDuplexStream<LeaseKeepAliveRequest, PbKeepAliveResponse> | undefined;
  private streamEp: Endpoint | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconnectAt = 0;
  private reconnectAttempt = 0;

  constructor(private readonly conn: Connection) {}

  /** Starts keeping `id` alive (renewing at once); several handles may keep the same lease. */
  add(id: bigint): LeaseKeepAlive {
    this.conn.assertOpen();
    const h = new LeaseKeepAlive(id, this);
    let e = this.entries.get(id);
    if (e === undefined) {
      e = { id, handles: new Set(), nextSendAt: 0, sentAt: undefined, ttlMs: undefined, deadline: undefined };
      this.entries.set(id, e);
    }
    e.handles.add(h);
    this.start();
    this.tick();
    return h;
  }

  /** @internal A handle closed. */
  remove(h: LeaseKeepAlive): void {
    const e = this.entries.get(h.id);
    if (e === undefined) return;
    e.handles.delete(h);
    if (e.handles.size === 0) this.entries.delete(h.id);
    if (this.entries.size === 0) this.stop();
  }

  /** Stops everything (client close): handles stay silent. */
  close(): void {
    this.entries.clear();
    this.stop();
  }

  private start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.dropStream(false);
  }

  private tick(): void {
    if (this.conn.isClosed) {
      this.close();
      return;
    }
    const now = performance.now();
    for (const e of [...this.entries.values()]) {
      if (e.deadline !== undefined && now >= e.deadline) {
        this.lose(e, `lease ${hexId(e.id)}: no keep-alive confirmed within its TTL; presumed expired`);
        continue;
      }
      if (e.sentAt !== undefined && now - e.sentAt > stallMs(e)) {
        // The member does not answer (it may be cut off from the leader): try the next one.
        this.dropStream(true);
        break;
      }
    }
    if (this.entries.size === 0) {
      this.stop();
      return;
    }
    const stream = this.ensureStream(now);
    if (stream === undefined) return;
    for (const e of this.entries.values()) {
      if (e.sentAt === undefined && now >= e.nextSendAt) {
        e.sentAt = now;
        stream.write({ ID: e.id });
      }
    }
  }

  private ensureStream(
    now: number,
  ): ClientDuplexStream<LeaseKeepAliveRequest, PbKeepAliveResponse> | undefined {
    if (this.stream !== undefined) return this.stream;
    if (now < this.reconnectAt) return undefined;
    if (this.conn.needsToken) {
      // The stream carries the token from its start: authenticate first (a later tick opens it).
      this.conn.ensureToken().catch(() => {});
      return undefined;
    }
    const ep = this.conn.pool.pick();
    const md = this.conn.metadata(true);
    const s = ep.lease.leaseKeepAlive(md);
    this.stream = s;
    this.streamEp = ep;
    s.on("data", (r: PbKeepAliveResponse) => this.onResponse(s, ep, r));
    s.on("error", (err: unknown) => this.onStreamEnd(s, ep, err));
    s.on("end", () => this.onStreamEnd(s, ep, undefined));
    // Everything outstanding goes out again on the new stream.
    for (const e of this.entries.values()) e.sentAt = undefined;
    return s;
  }

  private onResponse(s: unknown, ep: Endpoint, r: PbKeepAliveResponse): void {
    if (s !== this.stream) return;
    const e = this.entries.get(r.ID);
    if (e === undefined) return;
    const now = performance.now();
    this.reconnectAttempt = 0;
    this.conn.pool.succeeded(ep);
    if (r.TTL <= 0n) {
      this.lose(e, `lease ${hexId(e.id)}: expired or revoked (keep-alive answered TTL 0)`);
      return;
    }
    const ttlMs = Number(r.TTL) * 1000;
    const sentAt = e.sentAt ?? now;
    e.ttlMs = ttlMs;
    e.deadline = sentAt + ttlMs;
    e.nextSendAt = now + ttlMs / 3;
    e.sentAt = undefined;
    const resp: LeaseKeepAliveResponse = { header: toHeader(r.header), id: r.ID, ttl: r.TTL };
    for (const h of [...e.handles]) h.onRenewed(resp);
  }

  private onStreamEnd(s: unknown, ep: Endpoint, err: unknown): void {
    if (s !== this.stream) return;
    this.stream = undefined;
    this.streamEp = undefined;
    if (this.conn.isClosed || this.entries.size === 0) return;
    const e = err === undefined ? undefined : toClientError(err, { endpoint: ep.url });
    // A stream the server ended without error also means "go elsewhere" (member shutting down).
    if (e === undefined || shouldFailover(e)) this.conn.pool.failed(ep);
    // An expired token: authenticate again before the next stream (one refresh for all callers).
    if (e !== undefined && needsNewToken(e)) this.conn.refreshToken(this.conn.authToken).catch(() => {});
    this.reconnectAt = performance.now() + backoffMs(this.reconnectAttempt++, 1000);
  }

  /** Abandons the current stream; with `failover`, its endpoint counts as failed. */
  private dropStream(failover: boolean): void {
    const s = this.stream;
    const ep = this.streamEp;
    this.stream = undefined;
    this.streamEp = undefined;
    if (s === undefined) return;
    if (failover && ep !== undefined) this.conn.pool.failed(ep);
    s.removeAllListeners("data");
    s.on("error", () => {});
    s.cancel();
  }

  private lose(e: Entry, message: string): void {
    this.entries.delete(e.id);
    const err = new EtcdLeaseExpiredError(message);
    for (const h of [...e.handles]) h.onLost(err);
    if (this.entries.size === 0) this.stop();
  }
}

function stallMs(e: Entry): number {
  if (e.ttlMs === undefined) return MAX_STALL_MS;
  return Math.max(MIN_STALL_MS, Math.min(MAX_STALL_MS, e.ttlMs / 3));
}
