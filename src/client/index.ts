// The etcd-ts client library (etcd's clientv3): see README.md in this folder.

export { Auth, type PermissionType, type RolePermission } from "./auth.js";
export { type Bytes, hexId, type Int64, prefixRangeEnd } from "./bytes.js";
export { Client, type ClientOptions } from "./client.js";
export { Cluster, type Member, type MemberAddResponse, type MemberListResponse } from "./cluster.js";
export * from "./concurrency/index.js";
export type { AuthCredentials, CallOptions } from "./connection.js";
export * from "./errors.js";
export type { CompactOptions } from "./kv.js";
export {
  type GrantOptions,
  Lease,
  type LeaseGrantResponse,
  type LeaseKeepAlive,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type LeaseTimeToLiveResponse,
} from "./lease.js";
export {
  type AlarmKind,
  type AlarmMember,
  type HashKVResponse,
  Maintenance,
  type MemberCallOptions,
  type StatusResponse,
} from "./maintenance.js";
export type { DeleteOptions, GetOptions, PutOptions, RangeSpec, SortOrder, SortTarget } from "./requests.js";
export { isRetryable, provablyNotExecuted, type RequestKind, shouldFailover } from "./retry.js";
export { Compare, type CompareOp, Op, Txn } from "./txn.js";
export type {
  CompactResponse,
  DeleteResponse,
  GetResponse,
  KeyValue,
  OpResponse,
  PutResponse,
  ResponseHeader,
  TxnResponse,
} from "./types.js";
export { type WatchEvent, Watcher, type WatchOptions, type WatchResponse } from "./watcher.js";
