// The multi-version key space's data types (etcd's mvccpb).

/** One version of a key. Revisions are int64 on the wire and plain numbers here (exact to 2^53). */
export interface KeyValue {
  key: Uint8Array;
  /** Revision of the put that created this generation of the key. 0 in a delete event. */
  createRevision: number;
  /** Revision of the put (or delete, in a delete event) that wrote this version. */
  modRevision: number;
  /** Puts to the key since its creation, 1 for the first. Reset to 0 by a delete. */
  version: number;
  value: Uint8Array;
  /** Lease attached to the key, 0n for none. */
  lease: bigint;
}

export enum EventType {
  PUT = 0,
  DELETE = 1,
}

/** A change, as the watch stream carries it. A delete's kv holds only the key and modRevision. */
export interface Event {
  type: EventType;
  kv: KeyValue;
  prevKv?: KeyValue;
}

/** Options of the store-level range (etcd's mvcc.RangeOptions). */
export interface RangeOptions {
  /** Revision to read at; 0 or absent: the current revision. */
  rev?: number;
  /** Most keys to return; 0 or absent: all. `count` is not limited. */
  limit?: number;
  /** Only count the keys. */
  countOnly?: boolean;
}

/** Result of the store-level range. */
export interface RangeResult {
  /** Keys in order, at most `limit` of them. */
  kvs: KeyValue[];
  /** Keys in the range at the revision read, ignoring the limit. */
  count: number;
  /** The store's current revision when read (not the revision read at). */
  rev: number;
}

/**
 * What the key space needs from the lessor (src/lease). The lessor owns lease lifetimes; the store
 * tells it which keys are attached, and asks whether a lease exists before a put attaches it.
 */
export interface LeaseHooks {
  /** True if the lease exists (a put naming a missing lease fails with LeaseNotFoundError). */
  exists(id: bigint): boolean;
  /** `key` is now attached to lease `id` (called on put, and for every leased key on restore). */
  attach(id: bigint, key: Uint8Array): void;
  /** `key` is no longer attached to lease `id` (overwritten without the lease, or deleted). */
  detach(id: bigint, key: Uint8Array): void;
}

export const NO_LEASE = 0n;

/** A consistent view of the key space for reads (a store, or a write transaction seeing its own writes). */
export interface ReadView {
  /** The revision this view reads at by default. */
  rev(): number;
  /** The latest compaction revision (-1 if never compacted). */
  compactRev(): number;
  /** etcd's store-level range: key/rangeEnd semantics of RangeRequest. Throws CompactedError, FutureRevError. */
  range(key: Uint8Array, rangeEnd?: Uint8Array, opts?: RangeOptions): RangeResult;
}

/** A write transaction: every change in it gets the same main revision, rev() + 1 before the first write. */
export interface WriteView extends ReadView {
  put(key: Uint8Array, value: Uint8Array, lease?: bigint): void;
  /** Deletes the keys of the range that exist now; returns how many. */
  deleteRange(key: Uint8Array, rangeEnd?: Uint8Array): number;
}
