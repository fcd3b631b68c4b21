// Leader election (etcd's concurrency.Election). Candidates line up exactly as lock contenders do (see
// mutex.ts): `<prefix>/<lease ID in hex>` holds the candidate's value, the oldest key is the leader.
// The leader publishes a new value with proclaim() and steps down with resign(); observers follow the
// leader key. Like a lock, leadership can be lost unknowingly (lease expiry): fence actions with
// `revision` or `isLeader()` in a Txn.

import { type Bytes, hexId, toBytes } from "../bytes.js";
import type { CallOptions } from "../connection.js";
import { EtcdElectionNoLeaderError, EtcdElectionNotLeaderError } from "../errors.js";
import { Compare, Op } from "../txn.js";
import type { GetResponse, KeyValue, ResponseHeader } from "../types.js";
import type { Session } from "./session.js";
import { waitDeletes } from "./wait.js";

export class Election {
  /** The election's key prefix, ending with "/". */
  readonly prefix: string;
  /** This candidate's key while campaigning or leading. */
  key: string | undefined;
  /** Create revision of `key`: the fencing token of this term of leadership. */
  revision: bigint | undefined;
  header: ResponseHeader | undefined;

  constructor(
    readonly session: Session,
    prefix: string,
  ) {
    this.prefix = prefix.endsWith("/") ? prefix : `${prefix}/`;
  }

  /**
   * Stands for election with `value`; resolves once this candidate leads. Aborting (signal) or losing
   * the session withdraws the candidacy.
   */
  async campaign(value: Bytes, opts: CallOptions = {}): Promise<void> {
    this.session.assertActive();
    const client = this.session.client;
    const key = `${this.prefix}${hexId(this.session.lease)}`;
    const r = await client
      .txn()
      .if(Compare.createRevision(key, "=", 0))
      .then(Op.put(key, value, { lease: this.session.lease }))
      .else(Op.get(key))
      .commit(opts);
    this.key = key;
    this.revision = r.header.revision;
    this.header = r.header;
    if (!r.succeeded) {
      // This session already campaigns: keep its place, update the value.
      const mine = r.responses[0]!;
      const kv = mine.type === "get" ? mine.kvs[0] : undefined;
      if (kv !== undefined) {
        this.revision = kv.createRevision;
        if (!kv.value.equals(toBytes(value))) {
          await this.proclaim(value, opts);
        }
      }
    }
    try {
      await waitDeletes(client, this.prefix, this.revision - 1n, this.session, opts);
    } catch (e) {
      await this.resign({ timeoutMs: opts.timeoutMs }).catch(() => {});
      throw e;
    }
  }

  /** Publishes a new value while leading; EtcdElectionNotLeaderError otherwise. */
  async proclaim(value: Bytes, opts: CallOptions = {}): Promise<void> {
    if (this.key === undefined) throw new EtcdElectionNotLeaderError();
    const r = await this.session.client
      .txn()
      .if(this.isLeader())
      .then(Op.put(this.key, value, { lease: this.session.lease }))
      .commit(opts);
    if (!r.succeeded) {
      this.key = undefined;
      this.revision = undefined;
      throw new EtcdElectionNotLeaderError();
    }
    this.header = r.header;
  }

  /** Steps down (deletes the candidate key), letting the next candidate lead. No-op if not a candidate. */
  async resign(opts: CallOptions = {}): Promise<void> {
    if (this.key === undefined) return;
    const key = this.key;
    const cmp = this.isLeader();
    this.key = undefined;
    this.revision = undefined;
    await this.session.client.txn().if(cmp).then(Op.delete(key)).commit(opts);
  }

  /** A comparison that holds only while this candidate's term lasts (for fenced Txns). */
  isLeader(): Compare {
    if (this.key === undefined || this.revision === undefined) throw new EtcdElectionNotLeaderError();
    return Compare.createRevision(this.key, "=", this.revision);
  }

  /** The current leader's key-value; EtcdElectionNoLeaderError when nobody campaigns. */
  async leader(opts: CallOptions = {}): Promise<KeyValue> {
    const r = await this.firstCandidate(opts);
    const kv = r.kvs[0];
    if (kv === undefined) throw new EtcdElectionNoLeaderError();
    return kv;
  }

  /**
   * The leader's key-value now and after every change (new leader, or a proclaim of the current one),
   * until the iteration is left or `signal` aborts. Waits while there is no leader.
   */
  async *observe(opts: CallOptions = {}): AsyncGenerator<KeyValue> {
    const client = this.session.client;
    for (;;) {
      const r = await this.firstCandidate(opts);
      let kv = r.kvs[0];
      let rev = r.header.revision;
      if (kv === undefined) {
        // Nobody leads: the first key put under the prefix does.
        const w = await client.watch(this.prefix, {
          prefix: true,
          noDelete: true,
          startRevision: rev + 1n,
          ...opts,
        });
        const stop = () => void w.cancel();
        opts.signal?.addEventListener("abort", stop, { once: true });
        try {
          for await (const resp of w) {
            kv = resp.events[0]?.kv;
            if (kv !== undefined) break;
          }
        } finally {
          opts.signal?.removeEventListener("abort", stop);
          await w.cancel();
        }
        if (kv === undefined) return;
        rev = kv.modRevision;
      }
      yield kv;
      // Follow the leader key until it is deleted, then look for the next leader.
      const w = await client.watch(kv.key, { startRevision: rev + 1n, ...opts });
      const stop = () => void w.cancel();
      opts.signal?.addEventListener("abort", stop, { once: true });
      try {
        let gone = false;
        for await (const resp of w) {
          for (const e of resp.events) {
            if (e.type === "delete") {
              gone = true;
              break;
            }
            yield e.kv;
          }
          if (gone) break;
        }
        if (!gone) return;
      } finally {
        opts.signal?.removeEventListener("abort", stop);
        await w.cancel();
      }
    }
  }

  private firstCandidate(opts: CallOptions): Promise<GetResponse> {
    return this.session.client.get(this.prefix, {
      ...opts,
      prefix: true,
      sort: { target: "create", order: "ascend" },
      limit: 1,
    });
  }
}
