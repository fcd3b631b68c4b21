// What the client API layer (gRPC services, HTTP handlers, JSON gateway) needs from the member: the part
// of EtcdServer's contract (notes/server-design.md) it calls. EtcdServer satisfies it structurally;
// tests pass a small fake. Requests and responses are the generated etcdserverpb types (bigint int64).
//
// Errors: methods throw EtcdErrors of src/server/errors.ts (or mvcc/lease errors, mapped the same way);
// the API layer answers with their gRPC code and exact message.

import type { Registry } from "prom-client";
import type { MemberAuth } from "../auth/member.js";
import type { AuthInfo } from "../auth/types.js";
import type { WatchableStore } from "../mvcc/watch/index.js";
import type { ClusterMemberView } from "../server/cluster_status.js";
import type * as pb from "./gen/etcdserverpb/rpc.js";

/** A prom-client Registry fits. */
export interface MetricsRegistry {
  metrics(): Promise<string> | string;
  readonly contentType: string;
  /** The member's prom-client registry: the API layer adds its gRPC metrics to it. */
  readonly registry?: Registry;
}

export interface ApiServer {
  /**
   * The member's current header: cluster and member IDs, raft term, and the key space's current
   * revision. Responses whose header is missing get it; responses with a header get cluster_id,
   * member_id, raft_term from it (and revision when theirs is 0), as etcd's v3rpc header.fill does.
   */
  header(): pb.ResponseHeader;
  /** The leader's member ID, 0n when there is none (/health, and clients' "hasleader" metadata). */
  leader(): bigint;
  /** True while this member is a learner: it serves only what etcd lets learners serve. */
  isLearner?(): boolean;

  // `ai`: the user making the request (auth), recorded in the proposal and checked when it is applied.
  // `chk` of range: the auth check, run after the linearizable wait, before the read.
  range(r: pb.RangeRequest, chk?: () => void): Promise<pb.RangeResponse>;
  put(r: pb.PutRequest, ai?: AuthInfo): Promise<pb.PutResponse>;
  deleteRange(r: pb.DeleteRangeRequest, ai?: AuthInfo): Promise<pb.DeleteRangeResponse>;
  txn(r: pb.TxnRequest, ai?: AuthInfo): Promise<pb.TxnResponse>;
  compact(r: pb.CompactionRequest, ai?: AuthInfo): Promise<pb.CompactionResponse>;

  leaseGrant(r: pb.LeaseGrantRequest, ai?: AuthInfo): Promise<pb.LeaseGrantResponse>;
  leaseRevoke(r: pb.LeaseRevokeRequest, ai?: AuthInfo): Promise<pb.LeaseRevokeResponse>;
  /** Renews the lease; resolves with its TTL in seconds. Throws ErrGRPCLeaseNotFound (or the lease error). */
  leaseRenew(id: bigint): Promise<bigint>;
  /** A missing lease may throw the lease-not-found error: the API answers TTL -1 then, as etcd. */
  leaseTimeToLive(r: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse>;
  leaseLeases(): Promise<pb.LeaseLeasesResponse>;

  memberList(linearizable: boolean): Promise<pb.MemberListResponse>;
  /** Membership changes (issue 5); the API answers UNIMPLEMENTED while absent. */
  memberAdd?(r: pb.MemberAddRequest): Promise<pb.MemberAddResponse>;
  memberRemove?(r: pb.MemberRemoveRequest): Promise<pb.MemberRemoveResponse>;
  memberUpdate?(r: pb.MemberUpdateRequest): Promise<pb.MemberUpdateResponse>;
  memberPromote?(r: pb.MemberPromoteRequest): Promise<pb.MemberPromoteResponse>;

  status(): Promise<pb.StatusResponse>;
  /** Every member's status for the dashboard (absent: the dashboard shows this member only). */
  clusterStatus?(): Promise<ClusterMemberView[]>;
  hashKV(r: pb.HashKVRequest): Promise<pb.HashKVResponse>;
  hash(): Promise<pb.HashResponse>;
  /** Also read (action GET) by /health and /readyz for active alarms, unless activeAlarms is there. */
  alarm(r: pb.AlarmRequest, ai?: AuthInfo): Promise<pb.AlarmResponse>;
  /** The alarms this member has applied, read locally without a Raft round (etcd's Alarms()). */
  activeAlarms?(): pb.AlarmMember[];
  defragment(): Promise<pb.DefragmentResponse>;
  /**
   * The backend as a byte stream (sent in 32 KiB messages followed by its SHA-256, as etcd). If the
   * iterable has a numeric `size`, remaining_bytes counts down from it exactly; otherwise it is a
   * lower bound (0 on the last data message).
   */
  snapshot(): AsyncIterable<Uint8Array> & { readonly size?: number };
  moveLeader(r: pb.MoveLeaderRequest): Promise<pb.MoveLeaderResponse>;
  downgrade?(r: pb.DowngradeRequest): Promise<pb.DowngradeResponse>;

  /** Users, roles, tokens and their checks (absent: no auth; the Auth service answers UNIMPLEMENTED). */
  readonly auth?: MemberAuth;

  /** The watchable key space: one WatchStream per gRPC Watch call. */
  readonly watchable: WatchableStore;
  /** Prometheus registry served on /metrics. */
  readonly metrics: MetricsRegistry;
  /** For /version: the server's version ("3.5.x") and the cluster's (undefined until decided). */
  versions(): { server: string; cluster: string | undefined };
}

/** Limits of the client API (etcd's flags of the same names). */
export interface ApiLimits {
  /** --max-txn-ops, default 128. */
  maxTxnOps?: number;
  /** --max-request-bytes, default 1.5 MiB; gRPC accepts messages up to this + 512 KiB. */
  maxRequestBytes?: number;
  /** --grpc-keepalive-interval: the server pings an idle connection this often. Default 2 h (etcd's). */
  grpcKeepaliveIntervalMs?: number;
  /** --grpc-keepalive-timeout: and closes it if the ping is not answered in time. Default 20 s (etcd's). */
  grpcKeepaliveTimeoutMs?: number;
  /** --metrics=extensive: also the gRPC handling-time histogram. */
  extensiveMetrics?: boolean;
}

/** The logger the API layer writes to (pino-style: fields first). */
export interface ApiLogger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export const noopLogger: ApiLogger = { debug() {}, info() {}, warn() {}, error() {} };
