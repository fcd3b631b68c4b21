// A distributed lock (etcd's concurrency.Mutex). Each contender puts `<prefix>/<lease ID in hex>`
// attached to its session's lease, in a transaction that also reads the prefix's oldest key; the
// contender whose key has the lowest create revision holds the lock, the others wait for the deletion of
// the key just ahead of theirs (wait.ts). Unlock deletes the key; a crashed holder's key goes with its
// lease.
//
// NOT MUTUAL EXCLUSION BY ITSELF. A holder can lose the lock without knowing it (its lease expires during
// a long GC pause or a partition) while it still acts as the holder, and a newcomer acquires it
// meanwhile. Fence every protected write with the lock's `revision` (the create revision of the
// holder's key, which increases with every acquisition): either make the write conditional in the same
// etcd transaction (`Op`s guarded by `mutex.isOwner()`), or have the protected resource reject writes
// carrying a revision lower than one it has already seen.

import { hexId } from "../bytes.js";
import type { CallOptions } from "../connection.js";
import { EtcdLockedError, EtcdSessionExpiredError } from "../errors.js";
import { Compare, Op } from "../txn.js";
import type { ResponseHeader } from "../types.js";
import type { Session } from "./session.js";
import { waitDeletes } from "./wait.js";

export class Mutex {
  /** The lock's key prefix, ending with "/". */
  readonly prefix: string;
  /** The holder's key while held (or while waiting in line). */
  key: string | undefined;
  /**
   * The create revision of `key`: the fencing token of this acquisition (higher than every earlier
   * holder's). Undefined when not held.
   */
  revision: bigint | undefined;
  /** Header of the response that acquired the lock. */
  header: ResponseHeader | undefined;

  constructor(
    readonly session: Session,
    prefix: string,
  ) {
    this.prefix = prefix.endsWith("/") ? prefix : `${prefix}/`;
  }

  /** Waits until the lock is held. Aborting (signal) or losing the session gives up the place in line. */
  async lock(opts: CallOptions = {}): Promise<void> {
    const owner = await this.tryAcquire(opts);
    if (owner) return;
    try {
      await waitDeletes(this.session.client, this.prefix, this.revision! - 1n, this.session, opts);
      // The session may have expired while waiting, taking our key (and so our place) with it.
      const r = await this.session.client.get(this.key!, opts);
      if (r.kvs.length === 0 || r.kvs[0]!.createRevision !== this.revision) {
        throw new EtcdSessionExpiredError("mutex: lock key lost while waiting (session expired)");
      }
      this.header = r.header;
    } catch (e) {
      await this.release({ timeoutMs: opts.timeoutMs }).catch(() => {});
      throw e;
    }
  }

  /** Acquires the lock if nobody holds it; otherwise throws EtcdLockedError (and leaves no key behind). */
  async tryLock(opts: CallOptions = {}): Promise<void> {
    const owner = await this.tryAcquire(opts);
    if (owner) return;
    await this.release(opts);
    throw new EtcdLockedError();
  }

  /** Releases the lock (deletes the key). */
  async unlock(opts: CallOptions = {}): Promise<void> {
    await this.release(opts);
  }

  /** A comparison that holds only while this acquisition still owns the lock, for fenced Txns. */
  isOwner(): Compare {
    if (this.key === undefined || this.revision === undefined) throw new TypeError("mutex: not locked");
    return Compare.createRevision(this.key, "=", this.revision);
  }

  /** Puts our key if absent; true when it is the oldest under the prefix (we hold the lock). */
  private async tryAcquire(opts: CallOptions): Promise<boolean> {
    this.session.assertActive();
    const key = `${this.prefix}${hexId(this.session.lease)}`;
    const getOwner = Op.get(this.prefix, {
      prefix: true,
      sort: { target: "create", order: "ascend" },
      limit: 1,
    });
    const r = await this.session.client
      .txn()
      .if(Compare.createRevision(key, "=", 0))
      .then(Op.put(key, "", { lease: this.session.lease }), getOwner)
      .else(Op.get(key), getOwner)
      .commit(opts);
    let rev = r.header.revision;
    if (!r.succeeded) {
      // Our session already has a key here (a lock() retried after an ambiguous failure): reuse it.
      const mine = r.responses[0]!;
      if (mine.type === "get" && mine.kvs[0] !== undefined) rev = mine.kvs[0].createRevision;
    }
    this.key = key;
    this.revision = rev;
    this.header = r.header;
    const owner = r.responses[1]!;
    const first = owner.type === "get" ? owner.kvs[0] : undefined;
    return first === undefined || first.createRevision === rev;
  }

  private async release(opts: CallOptions): Promise<void> {
    const key = this.key;
    this.key = undefined;
    this.revision = undefined;
    if (key !== undefined) await this.session.client.delete(key, opts);
  }
}
