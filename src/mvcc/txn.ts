// Put, DeleteRange and Txn requests: validation (etcd's v3rpc checks, done before a request is proposed
// and again before it is applied) and application on a write view (etcd's applier). A txn evaluates all
// its conditions, nested ones included, before it writes anything, checks the chosen path (ignore_*
// puts need the key, leases must exist, range revisions must be readable), and only then applies it:
// it either applies whole, at one revision, or fails with nothing written.

import { applyCompares } from "./compare.js";
import {
  CompactedError,
  DuplicateKeyError,
  EmptyKeyError,
  FutureRevError,
  KeyNotFoundError,
  LeaseNotFoundError,
  LeaseProvidedError,
  TooManyOpsError,
  ValueProvidedError,
} from "./errors.js";
import { keySpan, spanHas } from "./key_index.js";
import { applyRange } from "./range.js";
import type {
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from "./requests.js";
import type { KeyValue, WriteView } from "./types.js";

/** etcd's default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128;

const EMPTY = new Uint8Array(0);

/** What applying needs besides the key space. */
export interface ApplyContext {
  /** True if the lease exists. */
  leaseExists(id: bigint): boolean;
}

// ---- validation ----------------------------------------------------------------------------------

export function checkRangeRequest(r: RangeRequest): void {
  if (!r.key || r.key.length === 0) throw new EmptyKeyError();
}

export function checkPutRequest(r: PutRequest): void {
  if (!r.key || r.key.length === 0) throw new EmptyKeyError();
  if (r.ignoreValue && r.value !== undefined && r.value.length !== 0) throw new ValueProvidedError();
  if (r.ignoreLease && r.lease !== undefined && r.lease !== 0n) throw new LeaseProvidedError();
}

export function checkDeleteRangeRequest(r: DeleteRangeRequest): void {
  if (!r.key || r.key.length === 0) throw new EmptyKeyError();
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  if ("requestRange" in op) checkRangeRequest(op.requestRange);
  else if ("requestPut" in op) checkPutRequest(op.requestPut);
  else if ("requestDeleteRange" in op) checkDeleteRangeRequest(op.requestDeleteRange);
  else if ("requestTxn" in op) checkTxnRequestShape(op.requestTxn, maxTxnOps);
  else throw new TypeError("mvcc: empty RequestOp");
}

function checkTxnRequestShape(r: TxnRequest, maxTxnOps: number): void {
  const compare = r.compare ?? [];
  const success = r.success ?? [];
  const failure = r.failure ?? [];
  const opc = Math.max(compare.length, success.length, failure.length);
  if (opc > maxTxnOps) throw new TooManyOpsError();
  for (const c of compare) if (!c.key || c.key.length === 0) throw new EmptyKeyError();
  for (const op of success) checkRequestOp(op, maxTxnOps - opc);
  for (const op of failure) checkRequestOp(op, maxTxnOps - opc);
}

interface DelSpan {
  start: string;
  single: boolean;
  end: string | undefined;
}

function intersects(dels: DelSpan[], k: string): boolean {
  for (const d of dels) if (spanHas(d, k)) return true;
  return false;
}

/**
 * etcd's checkIntervals: on one path through a txn no key may be put twice, or put and deleted. The
 * two branches of a nested txn exclude each other, so they may put the same key. Returns the keys
 * put and the ranges deleted, for the level above. A delete range "\0" (from key) counts as such here
 * (etcd reads it as an empty interval and misses overlaps with it).
 */
function checkIntervals(reqs: readonly RequestOp[]): { puts: Set<string>; dels: DelSpan[] } {
  const dels: DelSpan[] = [];
  for (const op of reqs) {
    if ("requestDeleteRange" in op)
      dels.push(keySpan(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd));
  }
  const puts = new Set<string>();
  for (const op of reqs) {
    if (!("requestTxn" in op)) continue;
    const then = checkIntervals(op.requestTxn.success ?? []);
    const otherwise = checkIntervals(op.requestTxn.failure ?? []);
    // Stricter than etcd, which lets a later nested txn delete what an earlier one put (one key
    // written twice at one revision): its deletes are checked against the puts before it too.
    const nestedDels = [...then.dels, ...otherwise.dels];
    for (const k of puts) if (intersects(nestedDels, k)) throw new DuplicateKeyError();
    for (const k of then.puts) {
      if (puts.has(k) || intersects(dels, k)) throw new DuplicateKeyError();
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if (puts.has(k) && !then.puts.has(k)) throw new DuplicateKeyError();
      if (intersects(dels, k)) throw new DuplicateKeyError();
      puts.add(k);
    }
    dels.push(...nestedDels);
  }
  for (const op of reqs) {
    if (!("requestPut" in op)) continue;
    const k = keySpan(op.requestPut.key).start;
    if (puts.has(k) || intersects(dels, k)) throw new DuplicateKeyError();
    puts.add(k);
  }
  return { puts, dels };
}

/**
 * Validates a TxnRequest as etcd's gRPC layer does: keys present, no more than `maxTxnOps` compares or
 * operations per branch (nested txns share the budget), ignore_* puts without value/lease, and no key
 * written twice on any path.
 */
export function checkTxnRequest(r: TxnRequest, maxTxnOps = DEFAULT_MAX_TXN_OPS): void {
  checkTxnRequestShape(r, maxTxnOps);
  checkIntervals(r.success ?? []);
  checkIntervals(r.failure ?? []);
}

// ---- application ---------------------------------------------------------------------------------

/** The outcome of every compare on the path taken, in pre-order: [this txn, nested txns on its path...]. */
function compareToPath(view: WriteView, r: TxnRequest): boolean[] {
  const ok = applyCompares(view, r.compare);
  const path = [ok];
  for (const op of (ok ? r.success : r.failure) ?? []) {
    if ("requestTxn" in op) path.push(...compareToPath(view, op.requestTxn));
  }
  return path;
}

/** Checks every operation on the path before anything is written. Returns how many path entries it used. */
function checkPath(view: WriteView, r: TxnRequest, path: boolean[], at: number, ctx: ApplyContext): number {
  let used = 1;
  for (const op of (path[at] ? r.success : r.failure) ?? []) {
    if ("requestTxn" in op) {
      used += checkPath(view, op.requestTxn, path, at + used, ctx);
    } else if ("requestPut" in op) {
      const p = op.requestPut;
      if ((p.ignoreValue || p.ignoreLease) && view.range(p.key).kvs.length === 0)
        throw new KeyNotFoundError();
      const lease = p.lease ?? 0n;
      if (lease !== 0n && !ctx.leaseExists(lease)) throw new LeaseNotFoundError();
    } else if ("requestRange" in op) {
      const rev = op.requestRange.revision ?? 0;
      if (rev === 0) continue;
      if (rev > view.rev()) throw new FutureRevError();
      if (rev < view.compactRev()) throw new CompactedError();
    }
  }
  return used;
}

/**
 * Applies a put on `w`. ignore_value / ignore_lease take the current value / lease (the key must exist);
 * a lease must exist. Throws before writing anything.
 */
export function applyPut(w: WriteView, p: PutRequest, ctx: ApplyContext): PutResponse {
  let prev: KeyValue | undefined;
  if (p.prevKv || p.ignoreValue || p.ignoreLease) prev = w.range(p.key).kvs[0];
  if ((p.ignoreValue || p.ignoreLease) && prev === undefined) throw new KeyNotFoundError();
  const reqLease = p.lease ?? 0n;
  if (reqLease !== 0n && !ctx.leaseExists(reqLease)) throw new LeaseNotFoundError();
  const value = p.ignoreValue ? prev!.value : (p.value ?? EMPTY);
  const lease = p.ignoreLease ? prev!.lease : reqLease;
  w.put(p.key, value, lease);
  const resp: PutResponse = { header: { revision: w.rev() } };
  if (p.prevKv && prev !== undefined) resp.prevKv = prev;
  return resp;
}

/** Applies a delete on `w`, returning the deleted keys as they were if asked. */
export function applyDeleteRange(w: WriteView, d: DeleteRangeRequest): DeleteRangeResponse {
  const prevKvs = d.prevKv ? w.range(d.key, d.rangeEnd).kvs : [];
  const deleted = w.deleteRange(d.key, d.rangeEnd);
  return { header: { revision: w.rev() }, deleted, prevKvs };
}

function execPath(
  w: WriteView,
  r: TxnRequest,
  path: boolean[],
  at: number,
  ctx: ApplyContext,
): [TxnResponse, number] {
  const succeeded = path[at];
  let used = 1;
  const responses: ResponseOp[] = [];
  for (const op of (succeeded ? r.success : r.failure) ?? []) {
    if ("requestRange" in op) {
      responses.push({ responseRange: applyRange(w, op.requestRange) });
    } else if ("requestPut" in op) {
      responses.push({ responsePut: applyPut(w, op.requestPut, ctx) });
    } else if ("requestDeleteRange" in op) {
      responses.push({ responseDeleteRange: applyDeleteRange(w, op.requestDeleteRange) });
    } else {
      const [resp, n] = execPath(w, op.requestTxn, path, at + used, ctx);
      used += n;
      responses.push({ responseTxn: resp });
    }
  }
  return [{ header: { revision: w.rev() }, succeeded, responses }, used];
}

/**
 * Applies a (validated) TxnRequest on the write transaction `w`: conditions, then checks of the chosen
 * path, then its operations in order (later ones see earlier writes). The caller ends `w`; the response
 * header carries the revision the txn ends at.
 */
export function applyTxn(w: WriteView, r: TxnRequest, ctx: ApplyContext): TxnResponse {
  const path = compareToPath(w, r);
  checkPath(w, r, path, 0, ctx);
  return execPath(w, r, path, 0, ctx)[0];
}
