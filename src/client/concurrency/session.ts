// A session: a lease kept alive for as long as the session lives (etcd's concurrency.Session). Locks and
// election candidacies are keys attached to the session's lease, so they vanish when the session's
// holder stops renewing it (crash, partition); `done` tells the holder when that happened.

import { type Int64, toBigInt } from "../bytes.js";
import type { Client } from "../client.js";
import type { CallOptions } from "../connection.js";
import { EtcdSessionExpiredError } from "../errors.js";
import type { LeaseKeepAlive } from "../keepalive.js";

export interface SessionOptions extends CallOptions {
  /** TTL of the session's lease in seconds (default 60). */
  ttl?: number;
  /** Use this existing lease instead of granting one (the session then keeps it alive). */
  lease?: Int64;
}

export class Session {
  /**
   * Resolves when the session ends: with EtcdSessionExpiredError when its lease was lost (keys held
   * through it must be assumed gone), or undefined after close()/orphan().
   */
  readonly done: Promise<EtcdSessionExpiredError | undefined>;
  private ended = false;
  private resolveDone!: (e: EtcdSessionExpiredError | undefined) => void;

  private constructor(
    readonly client: Client,
    /** The session's lease ID. */
    readonly lease: bigint,
    /** The lease's TTL in seconds. */
    readonly ttl: number,
    private readonly keeper: LeaseKeepAlive,
  ) {
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
    keeper.lost.then((e) => this.end(new EtcdSessionExpiredError(e.message)));
  }

  /** Grants (or adopts) a lease and starts keeping it alive. */
  static async create(client: Client, opts: SessionOptions = {}): Promise<Session> {
    const ttl = opts.ttl ?? 60;
    let id: bigint;
    if (opts.lease !== undefined) {
      id = toBigInt(opts.lease);
    } else {
      id = (await client.lease.grant(ttl, opts)).id;
    }
    return new Session(client, id, ttl, client.lease.keepAlive(id));
  }

  /** True until the lease is lost or the session closed. */
  get isActive(): boolean {
    return !this.ended;
  }

  /** Throws EtcdSessionExpiredError once the session has ended. */
  assertActive(): void {
    if (this.ended) throw new EtcdSessionExpiredError();
  }

  /** Stops renewing the lease without revoking it: its keys live on until the TTL runs out. */
  orphan(): void {
    this.keeper.close();
    this.end(undefined);
  }

  /** Ends the session and revokes its lease, deleting every key held through it. */
  async close(opts: CallOptions = {}): Promise<void> {
    const wasActive = !this.ended;
    this.orphan();
    if (wasActive) {
      await this.client.lease.revoke(this.lease, { timeoutMs: this.ttl * 1000, ...opts }).catch(() => {
        // The lease expires by itself within its TTL anyway.
      });
    }
  }

  private end(e: EtcdSessionExpiredError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.resolveDone(e);
  }
}
