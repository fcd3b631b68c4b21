// The Lock service's recipe (etcd's v3lock server over concurrency.Mutex): the caller's key
// `<name>/<lease hex>` is put with its lease unless its session already has one; the key created first
// under the prefix holds the lock, the others wait for the deletion of the key just ahead of theirs.
// The member does not keep the lease alive: the caller does (or, for lease 0, a 60 s lease granted here
// simply runs out).

import { EtcdError } from "../../server/errors.js";
import type { LockResponse } from "../gen/v3lockpb/v3lock.js";
import type { V3Rpc } from "../v3rpc.js";
import {
  createRevisionIs,
  firstCreated,
  get,
  getRequest,
  put,
  range,
  rangeOf,
  sessionKey,
  withSlash,
} from "./ops.js";
import { waitDeletes } from "./wait_deletes.js";

/** etcd's default session TTL, for a Lock or Campaign without a lease. */
export const DEFAULT_SESSION_TTL = 60n;

const UNKNOWN = 2;
export const ErrSessionExpired = () => new EtcdError(UNKNOWN, "mutex: session is expired");

/** The lease a request names, or a fresh one with etcd's default session TTL when it names none. */
export async function sessionLease(rpc: V3Rpc, lease: bigint): Promise<bigint> {
  if (lease !== 0n) return lease;
  return (await rpc.leaseGrant({ TTL: DEFAULT_SESSION_TTL, ID: 0n })).ID;
}

export async function lock(
  rpc: V3Rpc,
  name: Uint8Array,
  lease0: bigint,
  signal: AbortSignal,
): Promise<LockResponse> {
  const lease = await sessionLease(rpc, lease0);
  const prefix = withSlash(name);
  const key = sessionKey(prefix, lease);
  const owner = range(firstCreated(prefix));
  const r = await rpc.txn({
    compare: [createRevisionIs(key, 0n)],
    success: [put(key, new Uint8Array(), lease), owner],
    failure: [get(key), owner],
  });
  let myRev = r.header!.revision;
  // The session already had a key here (a retried Lock): it keeps its place in line.
  if (!r.succeeded) myRev = rangeOf(r.responses[0])?.kvs[0]?.createRevision ?? myRev;
  const first = rangeOf(r.responses[1])?.kvs[0];
  if (first === undefined || first.createRevision === myRev) return { header: r.header, key };
  try {
    await waitDeletes(rpc, prefix, myRev - 1n, signal);
    const g = await rpc.range(getRequest(key));
    if (g.kvs.length === 0) throw ErrSessionExpired();
    return { header: g.header, key };
  } catch (e) {
    // Waiting failed (the caller gave up, the watch was canceled): leave the line.
    await rpc.deleteRange({ key, rangeEnd: new Uint8Array(), prevKv: false }).catch(() => undefined);
    throw e;
  }
}
