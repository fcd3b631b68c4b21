// Requests and responses of the KV service, shaped as etcd's etcdserverpb messages (rpc.proto) with the
// same field names in camelCase. Plain data: the gRPC layer maps protobuf to and from these.
// Optional fields take their protobuf default (0, false, empty) when absent.

import type { KeyValue } from "./types.js";

export enum SortOrder {
  NONE = 0,
  ASCEND = 1,
  DESCEND = 2,
}

export enum SortTarget {
  KEY = 0,
  VERSION = 1,
  CREATE = 2,
  MOD = 3,
  VALUE = 4,
}

/**
 * Filled by the store with `revision`; the server adds cluster and member IDs and the raft term.
 */
export interface ResponseHeader {
  clusterId?: bigint;
  memberId?: bigint;
  revision: number;
  raftTerm?: number;
}

/**
 * key/rangeEnd as etcd: rangeEnd absent or empty: the single key; rangeEnd "\0": every key >= key;
 * otherwise [key, rangeEnd). A prefix p is [p, p with its last byte below 0xff incremented).
 */
export interface RangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  /** Most keys to return; 0: no limit. */
  limit?: number;
  /** Read at this revision; 0: current. */
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  /** Read locally without a linearizable barrier (the server's concern; the store ignores it). */
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  /** More keys than `limit` matched. */
  more: boolean;
  /** Keys in the range at the revision read (before limit and the min/max filters). */
  count: number;
}

export interface PutRequest {
  key: Uint8Array;
  value?: Uint8Array;
  /** Lease to attach, 0n for none. */
  lease?: bigint;
  prevKv?: boolean;
  /** Keep the current value (the key must exist; value must be empty). */
  ignoreValue?: boolean;
  /** Keep the current lease (the key must exist; lease must be 0). */
  ignoreLease?: boolean;
}

export interface PutResponse {
  header: ResponseHeader;
  /** The key before the put, if prevKv was asked and the key existed. */
  prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  prevKv?: boolean;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  /** The deleted keys as they were, if prevKv was asked. */
  prevKvs: KeyValue[];
}

export enum CompareResult {
  EQUAL = 0,
  GREATER = 1,
  LESS = 2,
  NOT_EQUAL = 3,
}

export enum CompareTarget {
  VERSION = 0,
  CREATE = 1,
  MOD = 2,
  VALUE = 3,
  LEASE = 4,
}

/**
 * One condition of a txn. The protobuf oneof target_union is the optional field matching `target`
 * (version, createRevision, modRevision, value, lease); an absent one compares against 0 / empty.
 */
export interface Compare {
  result: CompareResult;
  target: CompareTarget;
  key: Uint8Array;
  /** With rangeEnd, every key in the range must satisfy the condition. */
  rangeEnd?: Uint8Array;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Uint8Array;
  lease?: bigint;
}

/** One operation of a txn branch: exactly one of the fields (protobuf oneof request). */
export type RequestOp =
  | { requestRange: RangeRequest }
  | { requestPut: PutRequest }
  | { requestDeleteRange: DeleteRangeRequest }
  | { requestTxn: TxnRequest };

/** The response to one RequestOp (protobuf oneof response). */
export type ResponseOp =
  | { responseRange: RangeResponse }
  | { responsePut: PutResponse }
  | { responseDeleteRange: DeleteRangeResponse }
  | { responseTxn: TxnResponse };

export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: number;
  /** Reply only once the compacted revisions are removed from the backend. */
  physical?: boolean;
}

export interface CompactionResponse {
  header: ResponseHeader;
}

export interface HashKVRequest {
  /** 0: the current revision. */
  revision?: number;
}

export interface HashKVResponse {
  header: ResponseHeader;
  hash: number;
  compactRevision: number;
  /** The revision the hash covers (etcd 3.5's hash_revision). */
  hashRevision: number;
}
