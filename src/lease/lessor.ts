// The lessor (etcd's lease.Lessor): owns leases, their TTLs and the keys attached to them.
//
// Replicated state (changed only by applying raft entries, identically on every member, and written
// through the backend's batch transaction so it commits with the entry's consistent index):
//   grant, revoke (attached keys deleted in one revision), applyCheckpoint, and the key attachments the
//   key space reports through the LeaseHooks.
// Local state (the primary's, never persisted): expiries. Only the primary lessor, the raft leader's,
// runs lease clocks: it renews leases, finds expired ones and reports them (onExpired) for the server to
// propose their revocation, and reports remaining TTLs (onCheckpoint) for the server to propose as
// checkpoints. Every other lessor keeps every lease "forever". promote() starts the clocks from the
// checkpointed remaining TTLs (or full TTLs), demote() stops them.
//
// Time is read only from the injected clock (milliseconds). The server drives the periodic work by
// calling runOnce() (or start() for a timer that does so every 500 ms, as etcd's loop).
//
// Single-threaded: all methods are synchronous except renew(), which may wait for a checkpoint to be
// applied or, for an expired lease, for its revocation.

import type { BatchTx, ReadTx } from "../backend/batch_tx.js";
import { Bucket } from "../backend/buckets.js";
import type { LeaseHooks } from "../mvcc/types.js";
import {
  type Checkpointer,
  CheckpointSchedule,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  type LeaseCheckpoint,
  MAX_CHECKPOINT_BATCH,
  remainingSeconds,
} from "./checkpoint.js";
import { decodeLease, encodeLease, leaseIdOfKey, leaseKey } from "./codec.js";
import { LeaseExistsError, LeaseNotFoundError, LeaseTTLTooLargeError, NotPrimaryError } from "./errors.js";
import {
  type Clock,
  FOREVER,
  Lease,
  type LeaseStatus,
  leaseId,
  MAX_LEASE_TTL,
  minLeaseTTL,
  NO_LEASE,
  Signal,
  statusOf,
} from "./lease.js";
import { LeaseQueue } from "./lease_queue.js";
import { TokenBucket } from "./rate_limiter.js";

/** A write transaction that deletes (the key space's TxnWrite fits). */
export interface TxnDelete {
  /** Deletes the keys of [key, end) (just `key` without `end`); returns how many. */
  deleteRange(key: Uint8Array, end?: Uint8Array): number;
  /** Ends the transaction; returns the store's revision after it. */
  end(): number;
}

/** Opens a TxnDelete on the key space: `() => kv.write()`. */
export type RangeDeleter = () => TxnDelete;

/** Called with leases the primary found expired; the server proposes a LeaseRevoke for each. */
export type ExpiredHandler = (ids: bigint[]) => void;

/** The part of the backend the lessor uses. */
export interface LeaseBackend {
  readonly batchTx: BatchTx;
  readTx(): ReadTx;
}

export interface LessorLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface LessorOptions {
  /** The only source of time (ms). Pass `monotonicClock` for real time, a fake in tests. */
  clock: Clock;
  /**
   * Shortest TTL granted, seconds; shorter requests are raised to it. Default minLeaseTTL(10, 100) = 2,
   * etcd's for its default election timeout; servers pass minLeaseTTL(electionTicks, heartbeatMs).
   */
  minTtl?: number;
  /** Report remaining TTLs for checkpointing (needs onCheckpoint). Default true (opt-in in etcd). */
  checkpointing?: boolean;
  /** How often a lease is checkpointed, ms. Default 5 minutes (etcd's). */
  checkpointIntervalMs?: number;
  /** Persist applied checkpoints in the backend, so they survive restarts. Default true. */
  persistCheckpoints?: boolean;
  /** Wait before reporting an expired lease again if it has not been revoked, ms. Default 3000 (etcd's). */
  expiredLeaseRetryIntervalMs?: number;
  /** Most expired leases reported per second (etcd's leaseRevokeRate). Default 1000. */
  leaseRevokeRate?: number;
  /** Deletes a revoked lease's keys (set later with setRangeDeleter if the key space comes later). */
  rangeDeleter?: RangeDeleter;
  /** Receives expired leases on the primary (see runOnce). */
  onExpired?: ExpiredHandler;
  /** Receives remaining TTLs to propose as checkpoints (see runOnce, checkpointNow, renew). */
  onCheckpoint?: Checkpointer;
  logger?: LessorLogger;
}

/** A LeaseTimeToLive answer (etcd's LeaseTimeToLiveResponse without the header). */
export interface TimeToLive {
  id: bigint;
  /** Seconds left, rounded down; -1 if the lease is expired or does not exist. */
  ttl: number;
  /** TTL granted, seconds; 0 if the lease does not exist. */
  grantedTtl: number;
  /** Attached keys sorted by bytes (only when asked for). */
  keys: Uint8Array[];
}

export interface RevokeResult {
  /** Keys deleted with the lease. */
  deleted: number;
  /** The key space's revision after the deletion, or undefined if the lease had no keys. */
  rev: number | undefined;
}

/** What one runOnce() reported. */
export interface RunResult {
  expired: bigint[];
  checkpoints: LeaseCheckpoint[];
}

const noopLogger: LessorLogger = { info() {}, warn() {} };

/** etcd's lessor loop period. */
export const DEFAULT_LOOP_INTERVAL_MS = 500;
/** etcd's defaultLeaseRevokeRate. */
export const DEFAULT_LEASE_REVOKE_RATE = 1000;
/** etcd's defaultExpiredleaseRetryInterval. */
export const DEFAULT_EXPIRED_LEASE_RETRY_INTERVAL_MS = 3000;
/** Checkpoint batches per runOnce at most (etcd's leaseCheckpointRate / 2). */
const MAX_CHECKPOINT_BATCHES_PER_RUN = 500;

const latin1 = (k: Uint8Array): string =>
  (Buffer.isBuffer(k) ? k : Buffer.from(k.buffer, k.byteOffset, k.byteLength)).toString("latin1");

export class Lessor implements LeaseHooks {
  private readonly leaseMap = new Map<bigint, Lease>();
  /** Attached key (latin1) -> its lease. */
  private readonly itemMap = new Map<string, bigint>();
  /** Primary only: when to next look at each lease for expiry (its expiry, or a retry time). */
  private readonly expiryQueue = new LeaseQueue();
  private readonly checkpoints: CheckpointSchedule;
  private readonly clock: Clock;
  private readonly minTtl: number;
  private readonly checkpointing: boolean;
  private readonly persistCheckpoints: boolean;
  private readonly retryIntervalMs: number;
  private readonly revokeRate: number;
  private readonly revokeLimiter: TokenBucket;
  private readonly logger: LessorLogger;
  private rd: RangeDeleter | undefined;
  private onExpired: ExpiredHandler | undefined;
  private checkpointer: Checkpointer | undefined;
  /** Set while primary; fired on demotion (renewals waiting on an expired lease give up). */
  private demoted: Signal | undefined;
  private readonly stopped = new Signal();
  private timer: NodeJS.Timeout | undefined;

  /** Opens the lessor on the leases stored in `backend` (all non-primary: expiry forever). */
  constructor(
    private backend: LeaseBackend,
    opts: LessorOptions,
  ) {
    this.clock = opts.clock;
    this.minTtl = opts.minTtl ?? minLeaseTTL(10, 100);
    if (!Number.isSafeInteger(this.minTtl) || this.minTtl < 1) {
      throw new RangeError(`lease: minTtl must be a positive integer, got ${this.minTtl}`);
    }
    this.checkpointing = opts.checkpointing ?? true;
    this.persistCheckpoints = opts.persistCheckpoints ?? true;
    const interval = opts.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    if (!(interval > 0)) throw new RangeError("lease: checkpointIntervalMs must be positive");
    this.checkpoints = new CheckpointSchedule(interval);
    this.retryIntervalMs = opts.expiredLeaseRetryIntervalMs ?? DEFAULT_EXPIRED_LEASE_RETRY_INTERVAL_MS;
    if (!(this.retryIntervalMs > 0))
      throw new RangeError("lease: expiredLeaseRetryIntervalMs must be positive");
    this.revokeRate = opts.leaseRevokeRate ?? DEFAULT_LEASE_REVOKE_RATE;
    // As etcd's loop: at most half the per-second rate in one go (its 500 ms period).
    this.revokeLimiter = new TokenBucket(
      this.clock,
      this.revokeRate,
      Math.max(1, Math.floor(this.revokeRate / 2)),
    );
    this.rd = opts.rangeDeleter;
    this.onExpired = opts.onExpired;
    this.checkpointer = opts.onCheckpoint;
    this.logger = opts.logger ?? noopLogger;
    this.load();
  }

  // ---- wiring ----------------------------------------------------------------------------------------

  setRangeDeleter(rd: RangeDeleter | undefined): void {
    this.rd = rd;
  }

  setExpiredHandler(fn: ExpiredHandler | undefined): void {
    this.onExpired = fn;
  }

  /** Sets the checkpointer; on the primary, schedules the leases that were not yet. */
  setCheckpointer(cp: Checkpointer | undefined): void {
    this.checkpointer = cp;
    if (cp === undefined) {
      this.checkpoints.clear();
    } else if (this.isPrimary) {
      const now = this.clock.now();
      for (const l of this.leaseMap.values()) {
        if (this.checkpoints.dueAt(l.id) === undefined) this.scheduleCheckpoint(l, now);
      }
    }
  }

  /** True while this lessor runs lease clocks (its member is the raft leader). */
  get isPrimary(): boolean {
    return this.demoted !== undefined;
  }

  /** The shortest TTL granted, seconds. */
  get minLeaseTtl(): number {
    return this.minTtl;
  }

  // ---- the key space's hooks ---------------------------------------------------------------------------

  exists(id: bigint): boolean {
    return this.leaseMap.has(leaseId(id));
  }

  attach(id: bigint, key: Uint8Array): void {
    id = leaseId(id);
    const l = this.leaseMap.get(id);
    const ks = latin1(key);
    if (l === undefined) {
      this.logger.warn("lease: key attached to a missing lease", { lease: id.toString(), key: ks });
      return;
    }
    const prev = this.itemMap.get(ks);
    if (prev !== undefined && prev !== id) this.leaseMap.get(prev)?.keys.delete(ks);
    l.keys.add(ks);
    this.itemMap.set(ks, id);
  }

  detach(id: bigint, key: Uint8Array): void {
    id = leaseId(id);
    const ks = latin1(key);
    this.leaseMap.get(id)?.keys.delete(ks);
    if (this.itemMap.get(ks) === id) this.itemMap.delete(ks);
  }

  // ---- replicated operations (applied on every member) ----------------------------------------------

  /**
   * Grants lease `id` (chosen by the server; 0 is refused) for `ttl` seconds, raised to the minimum TTL.
   * Throws LeaseTTLTooLargeError above MAX_LEASE_TTL, LeaseExistsError if the ID is taken. On the
   * primary its clock starts now.
   */
  grant(id: bigint, ttl: number): LeaseStatus {
    id = leaseId(id);
    if (id === NO_LEASE) throw new LeaseNotFoundError();
    if (!Number.isSafeInteger(ttl)) throw new RangeError(`lease: TTL must be an integer, got ${ttl}`);
    if (ttl > MAX_LEASE_TTL) throw new LeaseTTLTooLargeError();
    if (this.leaseMap.has(id)) throw new LeaseExistsError();
    const l = new Lease(id, Math.max(ttl, this.minTtl));
    this.leaseMap.set(id, l);
    this.persist(l);
    if (this.isPrimary) {
      const now = this.clock.now();
      l.refresh(now);
      this.expiryQueue.upsert(id, l.expiry);
      this.scheduleCheckpoint(l, now);
    }
    return statusOf(l);
  }

  /**
   * Revokes lease `id`: deletes its attached keys (sorted by bytes, so every member writes the same) in
   * one transaction of `rd` (default: the one set), so in one revision, and the lease with them. Throws
   * LeaseNotFoundError if there is no such lease.
   */
  revoke(id: bigint, rd: RangeDeleter | undefined = this.rd): RevokeResult {
    id = leaseId(id);
    const l = this.leaseMap.get(id);
    if (l === undefined) throw new LeaseNotFoundError();
    const keys = l.sortedKeys();
    let deleted = 0;
    let rev: number | undefined;
    if (keys.length > 0) {
      if (rd === undefined) throw new Error("lease: revoking a lease with keys needs a range deleter");
      const txn = rd();
      try {
        for (const k of keys) deleted += txn.deleteRange(Buffer.from(k, "latin1"));
      } finally {
        rev = txn.end();
      }
    }
    this.leaseMap.delete(id);
    for (const k of l.keys) if (this.itemMap.get(k) === id) this.itemMap.delete(k);
    l.keys.clear();
    this.expiryQueue.remove(id);
    this.checkpoints.unschedule(id);
    this.backend.batchTx.delete(Bucket.lease, leaseKey(id));
    l.revoked.fire();
    return { deleted, rev };
  }

  /**
   * Applies a checkpoint: the lease's remaining TTL becomes `remainingTtl` seconds (0: unset, the full
   * TTL applies), persisted. The primary's expiry is unchanged; a later promotion starts from it.
   * Unknown leases are ignored (revoked since the checkpoint was proposed).
   */
  applyCheckpoint(id: bigint, remainingTtl: number): void {
    const l = this.leaseMap.get(leaseId(id));
    if (l === undefined) return;
    if (!Number.isSafeInteger(remainingTtl)) throw new RangeError(`lease: bad remaining TTL ${remainingTtl}`);
    l.remainingTtl = Math.max(0, remainingTtl);
    if (this.persistCheckpoints) this.persist(l);
    if (this.isPrimary) this.scheduleCheckpoint(l, this.clock.now());
  }

  /** Applies a LeaseCheckpointRequest. */
  applyCheckpoints(cps: readonly LeaseCheckpoint[]): void {
    for (const c of cps) this.applyCheckpoint(c.id, c.remainingTtl);
  }

  // ---- the primary --------------------------------------------------------------------------------------

  /**
   * Makes this lessor the primary: every lease's clock starts now + `extendMs` (etcd passes the election
   * timeout) + its checkpointed remaining TTL, or its full TTL. If leases enough to exceed the revoke rate
   * would expire together, later ones are pushed back so at most 3/4 of the rate expire in any second
   * (etcd's rule).
   */
  promote(extendMs = 0): void {
    this.demoted ??= new Signal(); // promoted again while primary: waiting renewals keep waiting
    const now = this.clock.now();
    for (const l of this.leaseMap.values()) {
      l.refresh(now, extendMs);
      this.expiryQueue.upsert(l.id, l.expiry);
      this.scheduleCheckpoint(l, now);
    }
    if (this.leaseMap.size < this.revokeRate) return; // no pile-up possible

    const leases = this.sortedByExpiry();
    let baseWindow = leases[0].remainingMs(now);
    let nextWindow = baseWindow + 1000;
    let expires = 0;
    // Fewer than the whole rate, so piled-up leases do not take all of it.
    const target = Math.floor((3 * this.revokeRate) / 4);
    for (const l of leases) {
      const remaining = l.remainingMs(now);
      if (remaining > nextWindow) {
        baseWindow = remaining;
        nextWindow = baseWindow + 1000;
        expires = 1;
        continue;
      }
      expires++;
      if (expires <= target) continue;
      // A lease n seconds after the window's start needs n seconds less of delay.
      const delay = Math.trunc(1000 * (expires / target) - (remaining - baseWindow));
      nextWindow = baseWindow + delay;
      l.refresh(now, delay + extendMs);
      this.expiryQueue.upsert(l.id, l.expiry);
      this.scheduleCheckpoint(l, now);
    }
  }

  /** Stops being the primary: every lease lives forever here; renewals waiting give up (NotPrimary). */
  demote(): void {
    for (const l of this.leaseMap.values()) l.expiry = FOREVER;
    this.expiryQueue.clear();
    this.checkpoints.clear();
    const d = this.demoted;
    this.demoted = undefined;
    d?.fire();
  }

  /**
   * Renews lease `id` on the primary: its clock restarts from the full TTL, which is returned. A lease
   * with a checkpointed remaining TTL first has it cleared through the checkpointer (so a later leader
   * does not start it from the stale value). An expired lease is not revived: the call waits for its
   * revocation (LeaseNotFoundError) or for demotion (NotPrimaryError). Throws NotPrimaryError off the
   * primary (the server forwards to the leader), LeaseNotFoundError for unknown leases.
   */
  async renew(id: bigint): Promise<number> {
    id = leaseId(id);
    const demoted = this.demoted;
    if (demoted === undefined) throw new NotPrimaryError();
    let l = this.leaseMap.get(id);
    if (l === undefined) throw new LeaseNotFoundError();
    if (l.expired(this.clock.now())) {
      const revoked = await Promise.race([
        l.revoked.promise.then(() => true),
        demoted.promise.then(() => false),
        this.stopped.promise.then(() => false),
      ]);
      throw revoked ? new LeaseNotFoundError() : new NotPrimaryError();
    }
    const cp = this.checkpointer;
    if (this.checkpointing && cp !== undefined && l.remainingTtl > 0) {
      await cp([{ id, remainingTtl: 0 }]);
      if (this.demoted !== demoted) throw new NotPrimaryError();
      l = this.leaseMap.get(id);
      if (l === undefined) throw new LeaseNotFoundError();
    }
    l.expiry = this.clock.now() + l.ttl * 1000;
    this.expiryQueue.upsert(id, l.expiry);
    return l.ttl;
  }

  /**
   * Leases the primary finds expired, at most `limit`, earliest first. Each is not returned again until
   * the retry interval has passed (by then its revocation should have been applied, removing it).
   * Empty off the primary. Not rate limited: runOnce() is.
   */
  expiredLeases(limit = Number.POSITIVE_INFINITY): bigint[] {
    const out: bigint[] = [];
    if (!this.isPrimary) return out;
    const now = this.clock.now();
    while (out.length < limit) {
      const top = this.expiryQueue.peek();
      if (top === undefined || top.time > now) break;
      const l = this.leaseMap.get(top.id);
      if (l === undefined) {
        this.expiryQueue.remove(top.id);
        continue;
      }
      this.expiryQueue.upsert(top.id, now + this.retryIntervalMs);
      if (l.expired(now)) out.push(l.id);
    }
    return out;
  }

  /**
   * Checkpoints every lease now (e.g. before handing leadership over), through the checkpointer, in
   * batches; returns what was reported. A lease is included if its remaining TTL is below its TTL, or
   * if a stale checkpoint must be cleared (remainingTtl 0). Nothing off the primary or without a
   * checkpointer.
   */
  checkpointNow(): LeaseCheckpoint[] {
    const cp = this.checkpointer;
    if (!this.isPrimary || cp === undefined || !this.checkpointing) return [];
    const now = this.clock.now();
    const out: LeaseCheckpoint[] = [];
    for (const l of this.sortedByExpiry()) {
      if (l.expired(now)) continue;
      const remaining = remainingSeconds(l, now);
      if (remaining < l.ttl) out.push({ id: l.id, remainingTtl: remaining });
      else if (l.remainingTtl > 0) out.push({ id: l.id, remainingTtl: 0 });
      else continue;
      this.scheduleCheckpoint(l, now);
    }
    for (let i = 0; i < out.length; i += MAX_CHECKPOINT_BATCH) {
      this.callCheckpointer(cp, out.slice(i, i + MAX_CHECKPOINT_BATCH));
    }
    return out;
  }

  /**
   * One round of the primary's periodic work (etcd's lessor loop body): reports expired leases to
   * onExpired, rate limited to leaseRevokeRate a second, and due checkpoints to onCheckpoint, in
   * batches. Returns what it reported. Call every ~500 ms, or use start().
   */
  runOnce(): RunResult {
    const res: RunResult = { expired: [], checkpoints: [] };
    if (!this.isPrimary) return res;
    const onExpired = this.onExpired;
    if (onExpired !== undefined) {
      const budget = this.revokeLimiter.available();
      if (budget > 0) {
        res.expired = this.expiredLeases(budget);
        this.revokeLimiter.take(res.expired.length);
        if (res.expired.length > 0) onExpired(res.expired);
      }
    }
    const cp = this.checkpointer;
    if (cp !== undefined && this.checkpointing) {
      for (let i = 0; i < MAX_CHECKPOINT_BATCHES_PER_RUN && this.isPrimary; i++) {
        const batch = this.checkpoints.due(this.clock.now(), this.leaseMap, MAX_CHECKPOINT_BATCH);
        if (batch.length > 0) {
          res.checkpoints.push(...batch);
          this.callCheckpointer(cp, batch);
        }
        if (batch.length < MAX_CHECKPOINT_BATCH) break;
      }
    }
    return res;
  }

  /** Runs runOnce() every `intervalMs` on a real (unref'd) timer until stop() or close(). */
  start(intervalMs = DEFAULT_LOOP_INTERVAL_MS): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      try {
        this.runOnce();
      } catch (err) {
        this.logger.warn("lease: periodic work failed", { error: String(err) });
      }
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the timer and fails renewals still waiting (NotPrimary). */
  close(): void {
    this.stop();
    this.stopped.fire();
  }

  // ---- reads ----------------------------------------------------------------------------------------

  /** The lease, if it exists. */
  lookup(id: bigint): LeaseStatus | undefined {
    const l = this.leaseMap.get(leaseId(id));
    return l === undefined ? undefined : statusOf(l);
  }

  /** Every lease, soonest expiry first (ties by ID). */
  leases(): LeaseStatus[] {
    return this.sortedByExpiry().map(statusOf);
  }

  /** The lease `key` is attached to, NO_LEASE if none. */
  leaseOf(key: Uint8Array): bigint {
    return this.itemMap.get(latin1(key)) ?? NO_LEASE;
  }

  /** Keys attached to the lease, sorted by bytes (empty if it does not exist). */
  keysOf(id: bigint): Uint8Array[] {
    const l = this.leaseMap.get(leaseId(id));
    return l === undefined ? [] : l.sortedKeys().map((k) => Buffer.from(k, "latin1"));
  }

  /**
   * LeaseTimeToLive, answered by the primary only (NotPrimaryError elsewhere: the server forwards to
   * the leader, which alone knows the clocks). A missing lease gets ttl -1 (as etcd's gRPC layer
   * answers), as does an expired one not yet revoked.
   */
  timeToLive(id: bigint, keys = false): TimeToLive {
    id = leaseId(id);
    if (!this.isPrimary) throw new NotPrimaryError();
    const l = this.leaseMap.get(id);
    if (l === undefined) return { id, ttl: -1, grantedTtl: 0, keys: [] };
    const remaining = l.remainingMs(this.clock.now());
    return {
      id,
      ttl: remaining <= 0 ? -1 : Math.floor(remaining / 1000),
      grantedTtl: l.ttl,
      keys: keys ? this.keysOf(id) : [],
    };
  }

  // ---- restore ----------------------------------------------------------------------------------------

  /**
   * Reloads every lease from `backend` (after the backend was replaced by a snapshot). Attachments are
   * dropped: call the key space's setLessor(this) again to re-attach its keys. Waiting renewals give up.
   */
  recover(backend: LeaseBackend = this.backend): void {
    const wasPrimary = this.isPrimary;
    this.demote();
    this.backend = backend;
    this.leaseMap.clear();
    this.itemMap.clear();
    this.load();
    if (wasPrimary) this.promote();
  }

  // ---- internals --------------------------------------------------------------------------------------

  private load(): void {
    this.backend.readTx().forEach(Bucket.lease, (k, v) => {
      const id = leaseIdOfKey(k);
      const rec = decodeLease(v);
      if (rec.id !== id) {
        this.logger.warn("lease: stored ID differs from its key", {
          key: id.toString(),
          id: rec.id.toString(),
        });
      }
      const l = new Lease(id, Math.max(rec.ttl, this.minTtl));
      l.remainingTtl = Math.max(0, rec.remainingTtl);
      this.leaseMap.set(id, l);
    });
    if (this.leaseMap.size > 0) this.logger.info("lease: restored leases", { count: this.leaseMap.size });
  }

  private persist(l: Lease): void {
    this.backend.batchTx.put(
      Bucket.lease,
      leaseKey(l.id),
      encodeLease({ id: l.id, ttl: l.ttl, remainingTtl: l.remainingTtl }),
    );
  }

  private scheduleCheckpoint(l: Lease, now: number): void {
    if (this.checkpointing && this.checkpointer !== undefined) this.checkpoints.schedule(l, now);
  }

  private callCheckpointer(cp: Checkpointer, batch: LeaseCheckpoint[]): void {
    const warn = (err: unknown): void =>
      this.logger.warn("lease: checkpoint proposal failed", { error: String(err), leases: batch.length });
    try {
      const p = cp(batch);
      if (p !== undefined) p.catch(warn);
    } catch (err) {
      warn(err);
    }
  }

  private sortedByExpiry(): Lease[] {
    return [...this.leaseMap.values()].sort((a, b) =>
      a.expiry !== b.expiry ? (a.expiry < b.expiry ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }
}
