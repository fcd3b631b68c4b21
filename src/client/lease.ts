// The lease API: grant, revoke, timeToLive, leases, keepAliveOnce, and keepAlive (the automatic loop of
// keepalive.ts). Lease IDs are bigints.

import type { ClientDuplexStream } from "@grpc/grpc-js";
import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import type {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse as PbKeepAliveResponse,
} from "../api/gen/etcdserverpb/rpc.js";
import { hexId, type Int64, toBigInt, toBuffer } from "./bytes.js";
import { type CallOptions, type Connection, canceled } from "./connection.js";
import {
  EtcdDeadlineExceededError,
  type EtcdError,
  EtcdLeaseExpiredError,
  Status,
  toClientError,
} from "./errors.js";
import { KeepAliveManager, type LeaseKeepAlive, type LeaseKeepAliveResponse } from "./keepalive.js";
import { backoffMs, isRetryable } from "./retry.js";
import { type ResponseHeader, toHeader } from "./types.js";

export type { LeaseKeepAlive, LeaseKeepAliveResponse } from "./keepalive.js";

export interface LeaseGrantResponse {
  header: ResponseHeader;
  id: bigint;
  /** The TTL granted, in seconds (the server may raise a small TTL to its minimum). */
  ttl: bigint;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  id: bigint;
  /** Remaining seconds; -1 when the lease does not exist (expired or revoked). */
  ttl: bigint;
  /** The TTL the lease was granted with. */
  grantedTtl: bigint;
  /** Keys attached to the lease, when asked for. */
  keys: Buffer[];
}

export interface LeaseLeasesResponse {
  header: ResponseHeader;
  leases: bigint[];
}

export interface GrantOptions extends CallOptions {
  /** Ask for this ID (0 or unset: the server picks one). */
  id?: Int64;
}

export class Lease {
  private readonly keeper: KeepAliveManager;

  constructor(private readonly conn: Connection) {
    this.keeper = new KeepAliveManager(conn);
  }

  /** Creates a lease that expires `ttl` seconds after its last renewal. */
  async grant(ttl: Int64, opts: GrantOptions = {}): Promise<LeaseGrantResponse> {
    const req = { TTL: toBigInt(ttl), ID: opts.id === undefined ? 0n : toBigInt(opts.id) };
    const r = await this.conn.unary<pb.LeaseGrantResponse>(
      "write",
      (ep, md, o, cb) => ep.lease.leaseGrant(req, md, o, cb),
      {
        ...opts,
        requireLeader: true,
      },
    );
    if (r.error !== "") throw toClientError({ code: Status.UNKNOWN, details: r.error });
    return { header: toHeader(r.header), id: r.ID, ttl: r.TTL };
  }

  /** Revokes the lease, deleting every key attached to it. */
  async revoke(id: Int64, opts: CallOptions = {}): Promise<{ header: ResponseHeader }> {
    const req = { ID: toBigInt(id) };
    const r = await this.conn.unary<pb.LeaseRevokeResponse>(
      "write",
      (ep, md, o, cb) => ep.lease.leaseRevoke(req, md, o, cb),
      {
        ...opts,
        requireLeader: true,
      },
    );
    return { header: toHeader(r.header) };
  }

  /** The lease's remaining TTL (-1 if it no longer exists), and its keys with `keys`. */
  async timeToLive(id: Int64, opts: CallOptions & { keys?: boolean } = {}): Promise<LeaseTimeToLiveResponse> {
    const req = { ID: toBigInt(id), keys: opts.keys ?? false };
    const r = await this.conn.unary<pb.LeaseTimeToLiveResponse>(
      "read",
      (ep, md, o, cb) => ep.lease.leaseTimeToLive(req, md, o, cb),
      {
        ...opts,
        requireLeader: true,
      },
    );
    return {
      header: toHeader(r.header),
      id: r.ID,
      ttl: r.TTL,
      grantedTtl: r.grantedTTL,
      keys: r.keys.map(toBuffer),
    };
  }

  /** Every lease's ID. */
  async leases(opts: CallOptions = {}): Promise<LeaseLeasesResponse> {
    const r = await this.conn.unary<pb.LeaseLeasesResponse>(
      "read",
      (ep, md, o, cb) => ep.lease.leaseLeases({}, md, o, cb),
      {
        ...opts,
        requireLeader: true,
      },
    );
    return { header: toHeader(r.header), leases: r.leases.map((l) => l.ID) };
  }

  /**
   * Renews the lease once (on a short-lived LeaseKeepAlive stream). Throws EtcdLeaseExpiredError when the
   * lease no longer exists. A renewal is idempotent, so it is retried like a read.
   */
  async keepAliveOnce(id: Int64, opts: CallOptions = {}): Promise<LeaseKeepAliveResponse> {
    const lid = toBigInt(id);
    const deadline = Date.now() + (opts.timeoutMs ?? this.conn.requestTimeoutMs);
    for (let attempt = 0; ; attempt++) {
      this.conn.assertOpen();
      await this.conn.ensureToken(opts);
      const ep = this.conn.pool.pick();
      let err: EtcdError;
      try {
        const r = await this.renewOnce(
          ep.lease.leaseKeepAlive(this.conn.metadata(true)),
          lid,
          deadline,
          opts,
        );
        this.conn.pool.succeeded(ep);
        if (r.TTL <= 0n) throw new EtcdLeaseExpiredError(`lease ${hexId(lid)}: expired or revoked`);
        return { header: toHeader(r.header), id: r.ID, ttl: r.TTL };
      } catch (e) {
        if (e instanceof EtcdLeaseExpiredError) throw e;
        err = toClientError(e, { endpoint: ep.url });
      }
      if (opts.signal?.aborted) throw canceled(opts.signal);
      if (err.code === Status.UNAVAILABLE) this.conn.pool.failed(ep);
      const wait = backoffMs(attempt);
      if (!isRetryable("read", err) || Date.now() + wait >= deadline) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /**
   * Keeps the lease alive until the handle is closed or the lease is lost (see keepalive.ts): renewals
   * every TTL/3, surviving failover. Watch `handle.lost` (or the "lost" event).
   */
  keepAlive(id: Int64): LeaseKeepAlive {
    return this.keeper.add(toBigInt(id));
  }

  /** @internal Stops every keep-alive (client close). */
  close(): void {
    this.keeper.close();
  }

  private renewOnce(
    s: ClientDuplexStream<LeaseKeepAliveRequest, PbKeepAliveResponse>,
    id: bigint,
    deadline: number,
    opts: CallOptions,
  ): Promise<PbKeepAliveResponse> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          finish(new EtcdDeadlineExceededError("etcdclient: keep-alive timed out", Status.DEADLINE_EXCEEDED)),
        Math.max(0, deadline - Date.now()),
      );
      const onAbort = () => finish(canceled(opts.signal!));
      let settled = false;
      const finish = (err: unknown, r?: PbKeepAliveResponse) => {
        // cancel() below makes the stream emit an error: only the first outcome counts.
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        s.removeAllListeners("data");
        s.on("error", () => {});
        s.cancel();
        if (r !== undefined) resolve(r);
        else reject(err);
      };
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      s.on("data", (r: PbKeepAliveResponse) => {
        if (r.ID === id) finish(undefined, r);
      });
      s.on("error", (e: unknown) => finish(e));
      s.on("end", () =>
        finish({ code: Status.UNAVAILABLE, details: "lease keep-alive stream ended without an answer" }),
      );
      s.write({ ID: id });
    });
  }
}
