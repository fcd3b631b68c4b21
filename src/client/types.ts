// The shapes the client returns: etcd's messages with keys and values as Buffers and every 64-bit number
// (revisions, IDs, counts) as a bigint.

import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import type * as mvccpb from "../api/gen/mvccpb/kv.js";
import { toBuffer } from "./bytes.js";

/** Who answered and at which revision (etcd's ResponseHeader). */
export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  /** The key-value store's revision when the request was served. */
  revision: bigint;
  raftTerm: bigint;
}

/** One key at one revision. */
export interface KeyValue {
  key: Buffer;
  value: Buffer;
  /** Revision of the key's latest creation. */
  createRevision: bigint;
  /** Revision of the key's latest modification. */
  modRevision: bigint;
  /** Modifications since creation (1 after the first put). */
  version: bigint;
  /** Attached lease ID, 0n for none. */
  lease: bigint;
}

export interface GetResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  /** More keys matched than `limit` returned. */
  more: boolean;
  /** Number of keys in the range (before the limit). */
  count: bigint;
}

export interface PutResponse {
  header: ResponseHeader;
  /** The key before this put, when asked for with prevKv. */
  prevKv: KeyValue | undefined;
}

export interface DeleteResponse {
  header: ResponseHeader;
  deleted: bigint;
  /** The deleted keys, when asked for with prevKv. */
  prevKvs: KeyValue[];
}

/** One result of a transaction, in the order of its operations. */
export type OpResponse =
  | ({ type: "get" } & GetResponse)
  | ({ type: "put" } & PutResponse)
  | ({ type: "delete" } & DeleteResponse)
  | ({ type: "txn" } & TxnResponse);

export interface TxnResponse {
  header: ResponseHeader;
  /** The comparisons held (the `then` branch ran) or not (`else`). */
  succeeded: boolean;
  responses: OpResponse[];
}

export interface CompactResponse {
  header: ResponseHeader;
}

const ZERO_HEADER: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };

export function toHeader(h: pb.ResponseHeader | undefined): ResponseHeader {
  if (h === undefined) return { ...ZERO_HEADER };
  return { clusterId: h.clusterId, memberId: h.memberId, revision: h.revision, raftTerm: h.raftTerm };
}

export function toKeyValue(kv: mvccpb.KeyValue): KeyValue {
  return {
    key: toBuffer(kv.key),
    value: toBuffer(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

export function toGetResponse(r: pb.RangeResponse): GetResponse {
  return { header: toHeader(r.header), kvs: r.kvs.map(toKeyValue), more: r.more, count: r.count };
}

export function toPutResponse(r: pb.PutResponse): PutResponse {
  return { header: toHeader(r.header), prevKv: r.prevKv ? toKeyValue(r.prevKv) : undefined };
}

export function toDeleteResponse(r: pb.DeleteRangeResponse): DeleteResponse {
  return { header: toHeader(r.header), deleted: r.deleted, prevKvs: r.prevKvs.map(toKeyValue) };
}

export function toTxnResponse(r: pb.TxnResponse): TxnResponse {
  const responses: OpResponse[] = [];
  for (const op of r.responses) {
    const u = op.response;
    switch (u?.$case) {
      case "responseRange":
        responses.push({ type: "get", ...toGetResponse(u.value) });
        break;
      case "responsePut":
        responses.push({ type: "put", ...toPutResponse(u.value) });
        break;
      case "responseDeleteRange":
        responses.push({ type: "delete", ...toDeleteResponse(u.value) });
        break;
      case "responseTxn":
        responses.push({ type: "txn", ...toTxnResponse(u.value) });
        break;
      default:
        break;
    }
  }
  return { header: toHeader(r.header), succeeded: r.succeeded, responses };
}
