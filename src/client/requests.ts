// Options of get/put/delete and the etcd requests they become. Shared by the KV methods and by
// transaction operations (Op), so a get inside a Txn means exactly what a plain get means.

import {
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
} from "../api/gen/etcdserverpb/rpc.js";
import { type Bytes, FROM_KEY_END, type Int64, prefixRangeEnd, toBigInt, toBytes } from "./bytes.js";

/** Which keys a request covers besides `key` itself. At most one of prefix, fromKey, rangeEnd. */
export interface RangeSpec {
  /** Every key starting with `key` (the empty key with prefix: every key). */
  prefix?: boolean;
  /** Every key >= `key` (the empty key with fromKey: every key). */
  fromKey?: boolean;
  /** Keys in [key, rangeEnd). */
  rangeEnd?: Bytes;
}

export type SortTarget = "key" | "version" | "create" | "mod" | "value";
export type SortOrder = "none" | "ascend" | "descend";

export interface GetOptions extends RangeSpec {
  /** At most this many keys (0 = no limit). */
  limit?: Int64;
  /** Read the store as of this revision (0 = latest). */
  revision?: Int64;
  /** Sort the result (etcd sorts by key ascending when only an order is given). */
  sort?: { target?: SortTarget; order?: SortOrder };
  /** Return keys without values. */
  keysOnly?: boolean;
  /** Return only the count. */
  countOnly?: boolean;
  /**
   * Serve the read from the member's local state without a quorum round trip: faster, works without a
   * leader, may be stale.
   */
  serializable?: boolean;
  minModRevision?: Int64;
  maxModRevision?: Int64;
  minCreateRevision?: Int64;
  maxCreateRevision?: Int64;
}

export interface PutOptions {
  /** Attach the key to this lease (deleted when the lease expires). */
  lease?: Int64;
  /** Return the previous key-value in the response. */
  prevKv?: boolean;
  /** Keep the current value (value must then be empty); updates the lease only. */
  ignoreValue?: boolean;
  /** Keep the current lease (lease must then be unset). */
  ignoreLease?: boolean;
}

export interface DeleteOptions extends RangeSpec {
  /** Return the deleted key-values in the response. */
  prevKv?: boolean;
}

/** [key, rangeEnd) on the wire for `key` and a range spec; an empty key with a range means "\0". */
export function rangeOf(key: Bytes, spec: RangeSpec = {}): { key: Uint8Array; rangeEnd: Uint8Array } {
  let k = toBytes(key);
  const n = (spec.prefix ? 1 : 0) + (spec.fromKey ? 1 : 0) + (spec.rangeEnd !== undefined ? 1 : 0);
  if (n > 1) throw new TypeError("give at most one of prefix, fromKey, rangeEnd");
  if (spec.prefix) {
    if (k.length === 0) return { key: FROM_KEY_END, rangeEnd: FROM_KEY_END };
    return { key: k, rangeEnd: prefixRangeEnd(k) };
  }
  if (spec.fromKey) {
    if (k.length === 0) k = FROM_KEY_END;
    return { key: k, rangeEnd: FROM_KEY_END };
  }
  return { key: k, rangeEnd: toBytes(spec.rangeEnd) };
}

const SORT_TARGET: Record<SortTarget, RangeRequest_SortTarget> = {
  key: RangeRequest_SortTarget.KEY,
  version: RangeRequest_SortTarget.VERSION,
  create: RangeRequest_SortTarget.CREATE,
  mod: RangeRequest_SortTarget.MOD,
  value: RangeRequest_SortTarget.VALUE,
};

const SORT_ORDER: Record<SortOrder, RangeRequest_SortOrder> = {
  none: RangeRequest_SortOrder.NONE,
  ascend: RangeRequest_SortOrder.ASCEND,
  descend: RangeRequest_SortOrder.DESCEND,
};

const big = (n: Int64 | undefined): bigint => (n === undefined ? 0n : toBigInt(n));

export function rangeRequest(key: Bytes, o: GetOptions = {}): RangeRequest {
  const r = rangeOf(key, o);
  return {
    key: r.key,
    rangeEnd: r.rangeEnd,
    limit: big(o.limit),
    revision: big(o.revision),
    sortOrder: SORT_ORDER[o.sort?.order ?? "none"],
    sortTarget: SORT_TARGET[o.sort?.target ?? "key"],
    serializable: o.serializable ?? false,
    keysOnly: o.keysOnly ?? false,
    countOnly: o.countOnly ?? false,
    minModRevision: big(o.minModRevision),
    maxModRevision: big(o.maxModRevision),
    minCreateRevision: big(o.minCreateRevision),
    maxCreateRevision: big(o.maxCreateRevision),
  };
}

export function putRequest(key: Bytes, value: Bytes, o: PutOptions = {}): PutRequest {
  return {
    key: toBytes(key),
    value: toBytes(value),
    lease: big(o.lease),
    prevKv: o.prevKv ?? false,
    ignoreValue: o.ignoreValue ?? false,
    ignoreLease: o.ignoreLease ?? false,
  };
}

export function deleteRequest(key: Bytes, o: DeleteOptions = {}): DeleteRangeRequest {
  const r = rangeOf(key, o);
  return { key: r.key, rangeEnd: r.rangeEnd, prevKv: o.prevKv ?? false };
}
