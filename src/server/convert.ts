// Conversions between the generated wire types (src/api/gen: etcdserverpb, mvccpb; 64-bit integers as
// bigint, oneofs as { $case, value }) and the key space's request types (src/mvcc/requests.ts: revisions
// as numbers, oneofs as single-key objects), both ways; and the request checks etcd's gRPC layer makes
// before proposing (v3rpc key.go), throwing the catalog's errors.
//
// Pure functions: no I/O, no server state. Revisions are exact below 2^53 (the store never gets near);
// a larger int64 from a client becomes a larger-than-any-revision number, so comparisons still hold.
// Lease and member IDs stay bigint.

import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import type * as mvccpb from "../api/gen/mvccpb/kv.js";
import { MvccError } from "../mvcc/errors.js";
import type * as m from "../mvcc/requests.js";
import { checkTxnRequest as checkTxnIntervals } from "../mvcc/txn.js";
import type { Event, KeyValue } from "../mvcc/types.js";
import {
  ErrGRPCEmptyKey,
  ErrGRPCKeyNotFound,
  ErrGRPCLeaseProvided,
  ErrGRPCRequestTooLarge,
  ErrGRPCTooManyOps,
  ErrGRPCValueProvided,
  toEtcdError,
} from "./errors.js";

const EMPTY = new Uint8Array(0);

/** An int64 from the wire as a number (exact below 2^53). */
export const num = (v: bigint): number => Number(v);
/** A number as an int64 for the wire. Throws on non-integers. */
export const big = (v: number): bigint => BigInt(v);

// ---- header, key-values, events ---------------------------------------------------------------------

export function headerToPb(h: m.ResponseHeader | undefined): pb.ResponseHeader {
  return {
    clusterId: h?.clusterId ?? 0n,
    memberId: h?.memberId ?? 0n,
    revision: big(h?.revision ?? 0),
    raftTerm: big(h?.raftTerm ?? 0),
  };
}

export function headerFromPb(h: pb.ResponseHeader | undefined): m.ResponseHeader {
  return {
    clusterId: h?.clusterId ?? 0n,
    memberId: h?.memberId ?? 0n,
    revision: num(h?.revision ?? 0n),
    raftTerm: num(h?.raftTerm ?? 0n),
  };
}

export function kvToPb(kv: KeyValue): mvccpb.KeyValue {
  return {
    key: kv.key,
    createRevision: big(kv.createRevision),
    modRevision: big(kv.modRevision),
    version: big(kv.version),
    value: kv.value,
    lease: kv.lease,
  };
}

export function kvFromPb(kv: mvccpb.KeyValue): KeyValue {
  return {
    key: kv.key,
    createRevision: num(kv.createRevision),
    modRevision: num(kv.modRevision),
    version: num(kv.version),
    value: kv.value,
    lease: kv.lease,
  };
}

/** mvcc's EventType and mvccpb's Event_EventType share values (PUT 0, DELETE 1). */
export function eventToPb(e: Event): mvccpb.Event {
  return {
    type: e.type as number as mvccpb.Event_EventType,
    kv: kvToPb(e.kv),
    prevKv: e.prevKv === undefined ? undefined : kvToPb(e.prevKv),
  };
}

export function eventFromPb(e: mvccpb.Event): Event {
  const ev: Event = {
    type: e.type as number,
    kv: e.kv === undefined ? emptyKv() : kvFromPb(e.kv),
  };
  if (e.prevKv !== undefined) ev.prevKv = kvFromPb(e.prevKv);
  return ev;
}

function emptyKv(): KeyValue {
  return { key: EMPTY, createRevision: 0, modRevision: 0, version: 0, value: EMPTY, lease: 0n };
}

// ---- Range ------------------------------------------------------------------------------------------

export function rangeRequestFromPb(r: pb.RangeRequest): m.RangeRequest {
  return {
    key: r.key,
    rangeEnd: r.rangeEnd,
    limit: num(r.limit),
    revision: num(r.revision),
    sortOrder: r.sortOrder as number,
    sortTarget: r.sortTarget as number,
    serializable: r.serializable,
    keysOnly: r.keysOnly,
    countOnly: r.countOnly,
    minModRevision: num(r.minModRevision),
    maxModRevision: num(r.maxModRevision),
    minCreateRevision: num(r.minCreateRevision),
    maxCreateRevision: num(r.maxCreateRevision),
  };
}

export function rangeRequestToPb(r: m.RangeRequest): pb.RangeRequest {
  return {
    key: r.key,
    rangeEnd: r.rangeEnd ?? EMPTY,
    limit: big(r.limit ?? 0),
    revision: big(r.revision ?? 0),
    sortOrder: (r.sortOrder ?? 0) as number,
    sortTarget: (r.sortTarget ?? 0) as number,
    serializable: r.serializable ?? false,
    keysOnly: r.keysOnly ?? false,
    countOnly: r.countOnly ?? false,
    minModRevision: big(r.minModRevision ?? 0),
    maxModRevision: big(r.maxModRevision ?? 0),
    minCreateRevision: big(r.minCreateRevision ?? 0),
    maxCreateRevision: big(r.maxCreateRevision ?? 0),
  };
}

export function rangeResponseToPb(r: m.RangeResponse): pb.RangeResponse {
  return { header: headerToPb(r.header), kvs: r.kvs.map(kvToPb), more: r.more, count: big(r.count) };
}

export function rangeResponseFromPb(r: pb.RangeResponse): m.RangeResponse {
  return { header: headerFromPb(r.header), kvs: r.kvs.map(kvFromPb), more: r.more, count: num(r.count) };
}

// ---- Put --------------------------------------------------------------------------------------------

export function putRequestFromPb(r: pb.PutRequest): m.PutRequest {
  return {
    key: r.key,
    value: r.value,
    lease: r.lease,
    prevKv: r.prevKv,
    ignoreValue: r.ignoreValue,
    ignoreLease: r.ignoreLease,
  };
}

export function putRequestToPb(r: m.PutRequest): pb.PutRequest {
  return {
    key: r.key,
    value: r.value ?? EMPTY,
    lease: r.lease ?? 0n,
    prevKv: r.prevKv ?? false,
    ignoreValue: r.ignoreValue ?? false,
    ignoreLease: r.ignoreLease ?? false,
  };
}

export function putResponseToPb(r: m.PutResponse): pb.PutResponse {
  return { header: headerToPb(r.header), prevKv: r.prevKv === undefined ? undefined : kvToPb(r.prevKv) };
}

export function putResponseFromPb(r: pb.PutResponse): m.PutResponse {
  const out: m.PutResponse = { header: headerFromPb(r.header) };
  if (r.prevKv !== undefined) out.prevKv = kvFromPb(r.prevKv);
  return out;
}

// ---- DeleteRange ------------------------------------------------------------------------------------

export function deleteRangeRequestFromPb(r: pb.DeleteRangeRequest): m.DeleteRangeRequest {
  return { key: r.key, rangeEnd: r.rangeEnd, prevKv: r.prevKv };
}

export function deleteRangeRequestToPb(r: m.DeleteRangeRequest): pb.DeleteRangeRequest {
  return { key: r.key, rangeEnd: r.rangeEnd ?? EMPTY, prevKv: r.prevKv ?? false };
}

export function deleteRangeResponseToPb(r: m.DeleteRangeResponse): pb.DeleteRangeResponse {
  return { header: headerToPb(r.header), deleted: big(r.deleted), prevKvs: r.prevKvs.map(kvToPb) };
}

export function deleteRangeResponseFromPb(r: pb.DeleteRangeResponse): m.DeleteRangeResponse {
  return { header: headerFromPb(r.header), deleted: num(r.deleted), prevKvs: r.prevKvs.map(kvFromPb) };
}

// ---- Txn --------------------------------------------------------------------------------------------

/** The compare's target_union becomes the field of the same name (an absent one compares with 0 / empty). */
export function compareFromPb(c: pb.Compare): m.Compare {
  const out: m.Compare = { result: c.result as number, target: c.target as number, key: c.key };
  if (c.rangeEnd.length > 0) out.rangeEnd = c.rangeEnd;
  const u = c.targetUnion;
  switch (u?.$case) {
    case "version":
      out.version = num(u.value);
      break;
    case "createRevision":
      out.createRevision = num(u.value);
      break;
    case "modRevision":
      out.modRevision = num(u.value);
      break;
    case "value":
      out.value = u.value;
      break;
    case "lease":
      out.lease = u.value;
      break;
  }
  return out;
}

/** The field matching `target` becomes the target_union (set even when absent, as clientv3 does). */
export function compareToPb(c: m.Compare): pb.Compare {
  let targetUnion: pb.Compare["targetUnion"];
  switch (c.target as number) {
    case 0:
      targetUnion = { $case: "version", value: big(c.version ?? 0) };
      break;
    case 1:
      targetUnion = { $case: "createRevision", value: big(c.createRevision ?? 0) };
      break;
    case 2:
      targetUnion = { $case: "modRevision", value: big(c.modRevision ?? 0) };
      break;
    case 3:
      targetUnion = { $case: "value", value: c.value ?? EMPTY };
      break;
    case 4:
      targetUnion = { $case: "lease", value: c.lease ?? 0n };
      break;
  }
  return {
    result: c.result as number,
    target: c.target as number,
    key: c.key,
    targetUnion,
    rangeEnd: c.rangeEnd ?? EMPTY,
  };
}

/** Throws ErrGRPCKeyNotFound for an empty op, as etcd's checkRequestOp does. */
export function requestOpFromPb(op: pb.RequestOp): m.RequestOp {
  const r = op.request;
  switch (r?.$case) {
    case "requestRange":
      return { requestRange: rangeRequestFromPb(r.value) };
    case "requestPut":
      return { requestPut: putRequestFromPb(r.value) };
    case "requestDeleteRange":
      return { requestDeleteRange: deleteRangeRequestFromPb(r.value) };
    case "requestTxn":
      return { requestTxn: txnRequestFromPb(r.value) };
    default:
      throw ErrGRPCKeyNotFound();
  }
}

export function requestOpToPb(op: m.RequestOp): pb.RequestOp {
  if ("requestRange" in op)
    return { request: { $case: "requestRange", value: rangeRequestToPb(op.requestRange) } };
  if ("requestPut" in op) return { request: { $case: "requestPut", value: putRequestToPb(op.requestPut) } };
  if ("requestDeleteRange" in op) {
    return { request: { $case: "requestDeleteRange", value: deleteRangeRequestToPb(op.requestDeleteRange) } };
  }
  return { request: { $case: "requestTxn", value: txnRequestToPb(op.requestTxn) } };
}

export function responseOpToPb(op: m.ResponseOp): pb.ResponseOp {
  if ("responseRange" in op) {
    return { response: { $case: "responseRange", value: rangeResponseToPb(op.responseRange) } };
  }
  if ("responsePut" in op)
    return { response: { $case: "responsePut", value: putResponseToPb(op.responsePut) } };
  if ("responseDeleteRange" in op) {
    return {
      response: { $case: "responseDeleteRange", value: deleteRangeResponseToPb(op.responseDeleteRange) },
    };
  }
  return { response: { $case: "responseTxn", value: txnResponseToPb(op.responseTxn) } };
}

export function responseOpFromPb(op: pb.ResponseOp): m.ResponseOp {
  const r = op.response;
  switch (r?.$case) {
    case "responseRange":
      return { responseRange: rangeResponseFromPb(r.value) };
    case "responsePut":
      return { responsePut: putResponseFromPb(r.value) };
    case "responseDeleteRange":
      return { responseDeleteRange: deleteRangeResponseFromPb(r.value) };
    case "responseTxn":
      return { responseTxn: txnResponseFromPb(r.value) };
    default:
      throw new TypeError("convert: empty ResponseOp");
  }
}

export function txnRequestFromPb(r: pb.TxnRequest): m.TxnRequest {
  return {
    compare: r.compare.map(compareFromPb),
    success: r.success.map(requestOpFromPb),
    failure: r.failure.map(requestOpFromPb),
  };
}

export function txnRequestToPb(r: m.TxnRequest): pb.TxnRequest {
  return {
    compare: (r.compare ?? []).map(compareToPb),
    success: (r.success ?? []).map(requestOpToPb),
    failure: (r.failure ?? []).map(requestOpToPb),
  };
}

export function txnResponseToPb(r: m.TxnResponse): pb.TxnResponse {
  return { header: headerToPb(r.header), succeeded: r.succeeded, responses: r.responses.map(responseOpToPb) };
}

export function txnResponseFromPb(r: pb.TxnResponse): m.TxnResponse {
  return {
    header: headerFromPb(r.header),
    succeeded: r.succeeded,
    responses: r.responses.map(responseOpFromPb),
  };
}

// ---- Compaction, HashKV -----------------------------------------------------------------------------

export function compactionRequestFromPb(r: pb.CompactionRequest): m.CompactionRequest {
  return { revision: num(r.revision), physical: r.physical };
}

export function compactionRequestToPb(r: m.CompactionRequest): pb.CompactionRequest {
  return { revision: big(r.revision), physical: r.physical ?? false };
}

export function compactionResponseToPb(r: m.CompactionResponse): pb.CompactionResponse {
  return { header: headerToPb(r.header) };
}

export function compactionResponseFromPb(r: pb.CompactionResponse): m.CompactionResponse {
  return { header: headerFromPb(r.header) };
}

export function hashKVRequestFromPb(r: pb.HashKVRequest): m.HashKVRequest {
  return { revision: num(r.revision) };
}

export function hashKVRequestToPb(r: m.HashKVRequest): pb.HashKVRequest {
  return { revision: big(r.revision ?? 0) };
}

export function hashKVResponseToPb(r: m.HashKVResponse): pb.HashKVResponse {
  return {
    header: headerToPb(r.header),
    hash: r.hash,
    compactRevision: big(r.compactRevision),
    hashRevision: big(r.hashRevision),
  };
}

export function hashKVResponseFromPb(r: pb.HashKVResponse): m.HashKVResponse {
  return {
    header: headerFromPb(r.header),
    hash: r.hash,
    compactRevision: num(r.compactRevision),
    hashRevision: num(r.hashRevision),
  };
}

// ---- request checks (etcd's v3rpc, before a request is proposed) -------------------------------------

/** etcd's default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128;
/** etcd's default --max-request-bytes (1.5 MiB). */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** What gRPC may receive beyond --max-request-bytes (etcd's grpcOverheadBytes). */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

export function checkRangeRequest(r: pb.RangeRequest): void {
  if (r.key.length === 0) throw ErrGRPCEmptyKey();
}

export function checkPutRequest(r: pb.PutRequest): void {
  if (r.key.length === 0) throw ErrGRPCEmptyKey();
  if (r.ignoreValue && r.value.length !== 0) throw ErrGRPCValueProvided();
  if (r.ignoreLease && r.lease !== 0n) throw ErrGRPCLeaseProvided();
}

export function checkDeleteRangeRequest(r: pb.DeleteRangeRequest): void {
  if (r.key.length === 0) throw ErrGRPCEmptyKey();
}

function checkTxnShape(r: pb.TxnRequest, maxTxnOps: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw ErrGRPCTooManyOps();
  for (const c of r.compare) if (c.key.length === 0) throw ErrGRPCEmptyKey();
  for (const op of r.success) checkRequestOp(op, maxTxnOps - opc);
  for (const op of r.failure) checkRequestOp(op, maxTxnOps - opc);
}

function checkRequestOp(op: pb.RequestOp, maxTxnOps: number): void {
  const r = op.request;
  switch (r?.$case) {
    case "requestRange":
      checkRangeRequest(r.value);
      break;
    case "requestPut":
      checkPutRequest(r.value);
      break;
    case "requestDeleteRange":
      checkDeleteRangeRequest(r.value);
      break;
    case "requestTxn":
      checkTxnShape(r.value, maxTxnOps);
      break;
    default:
      throw ErrGRPCKeyNotFound();
  }
}

/**
 * etcd's checkTxnRequest then checkIntervals: at most `maxTxnOps` compares or operations per branch
 * (nested txns share what the outer one leaves), keys present, ignore_* puts without value/lease, no
 * empty op (ErrGRPCKeyNotFound), and no key put twice, or put and deleted, on one path
 * (ErrGRPCDuplicateKey).
 */
export function checkTxnRequest(r: pb.TxnRequest, maxTxnOps = DEFAULT_MAX_TXN_OPS): void {
  checkTxnShape(r, maxTxnOps);
  try {
    checkTxnIntervals(txnRequestFromPb(r), maxTxnOps);
  } catch (err) {
    if (err instanceof MvccError) throw toEtcdError(err);
    throw err;
  }
}

/**
 * etcd refuses a proposal whose encoded request is larger than --max-request-bytes (checked by the server
 * on the encoded InternalRaftRequest).
 */
export function checkRequestSize(encodedBytes: number, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES): void {
  if (encodedBytes > maxRequestBytes) throw ErrGRPCRequestTooLarge();
}
