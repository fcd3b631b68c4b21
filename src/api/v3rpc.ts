// etcd's v3rpc logic without a transport: request checks before the server is called, the server call,
// and the response header filled as etcd's header.fill does. The gRPC services (src/api/grpc) and the
// JSON gateway (src/api/gateway.ts) both answer through this, so they behave alike.

import { createHash } from "node:crypto";
import {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_TXN_OPS,
} from "../server/convert.js";
import { ErrGRPCLeaseNotFound, EtcdError, Status, toEtcdError } from "../server/errors.js";
import type * as pb from "./gen/etcdserverpb/rpc.js";
import type { ApiLimits, ApiServer } from "./types.js";

/** Bytes of backend per Snapshot message (etcd's snapshotSendBufferSize). */
export const SNAPSHOT_CHUNK = 32 * 1024;
/** Snapshot data is padded to a multiple of this before its SHA-256 (see snapshot()). */
export const SNAPSHOT_ALIGN = 512;

/** An RPC the member does not offer (yet): UNIMPLEMENTED with grpc-go's text for unimplemented methods. */
export function unimplemented(method: string): EtcdError {
  return new EtcdError(Status.UNIMPLEMENTED, `method ${method} not implemented`);
}

export class V3Rpc {
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
  readonly grpcKeepaliveIntervalMs: number;
  readonly grpcKeepaliveTimeoutMs: number;

  constructor(
    readonly server: ApiServer,
    limits: ApiLimits = {},
  ) {
    this.maxTxnOps = limits.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    this.maxRequestBytes = limits.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.grpcKeepaliveIntervalMs = limits.grpcKeepaliveIntervalMs ?? 2 * 60 * 60 * 1000;
    this.grpcKeepaliveTimeoutMs = limits.grpcKeepaliveTimeoutMs ?? 20 * 1000;
  }

  /**
   * The response header as etcd's v3rpc fills it: cluster and member IDs and raft term from the member,
   * the revision kept if the response has one (else the member's current revision).
   */
  header(h?: pb.ResponseHeader): pb.ResponseHeader {
    const cur = this.server.header();
    return {
      clusterId: cur.clusterId,
      memberId: cur.memberId,
      raftTerm: cur.raftTerm,
      revision: h !== undefined && h.revision !== 0n ? h.revision : cur.revision,
    };
  }

  private filled<T extends { header: pb.ResponseHeader | undefined }>(resp: T): T {
    resp.header = this.header(resp.header);
    return resp;
  }

  // ---- KV ----------------------------------------------------------------------------------------------

  async range(r: pb.RangeRequest): Promise<pb.RangeResponse> {
    checkRangeRequest(r);
    return this.filled(await this.server.range(r));
  }

  async put(r: pb.PutRequest): Promise<pb.PutResponse> {
    checkPutRequest(r);
    return this.filled(await this.server.put(r));
  }

  async deleteRange(r: pb.DeleteRangeRequest): Promise<pb.DeleteRangeResponse> {
    checkDeleteRangeRequest(r);
    return this.filled(await this.server.deleteRange(r));
  }

  async txn(r: pb.TxnRequest): Promise<pb.TxnResponse> {
    checkTxnRequest(r, this.maxTxnOps);
    return this.filled(await this.server.txn(r));
  }

  async compact(r: pb.CompactionRequest): Promise<pb.CompactionResponse> {
    return this.filled(await this.server.compact(r));
  }

  // ---- Lease -------------------------------------------------------------------------------------------

  async leaseGrant(r: pb.LeaseGrantRequest): Promise<pb.LeaseGrantResponse> {
    return this.filled(await this.server.leaseGrant(r));
  }

  async leaseRevoke(r: pb.LeaseRevokeRequest): Promise<pb.LeaseRevokeResponse> {
    return this.filled(await this.server.leaseRevoke(r));
  }

  /** A missing lease answers TTL -1 (not an error), as etcd. */
  async leaseTimeToLive(r: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> {
    try {
      return this.filled(await this.server.leaseTimeToLive(r));
    } catch (err) {
      if (!ErrGRPCLeaseNotFound.matches(toEtcdError(err))) throw err;
      return { header: this.header(), ID: r.ID, TTL: -1n, grantedTTL: 0n, keys: [] };
    }
  }

  async leaseLeases(): Promise<pb.LeaseLeasesResponse> {
    try {
      return this.filled(await this.server.leaseLeases());
    } catch (err) {
      if (!ErrGRPCLeaseNotFound.matches(toEtcdError(err))) throw err;
      return { header: this.header(), leases: [] };
    }
  }

  /**
   * One keep-alive: the header is taken before the renewal (so its revision is not after the lease's
   * revocation, as etcd); a missing lease answers TTL 0.
   */
  async leaseKeepAlive(r: pb.LeaseKeepAliveRequest): Promise<pb.LeaseKeepAliveResponse> {
    const header = this.header();
    let ttl: bigint;
    try {
      ttl = await this.server.leaseRenew(r.ID);
    } catch (err) {
      if (!ErrGRPCLeaseNotFound.matches(toEtcdError(err))) throw err;
      ttl = 0n;
    }
    return { header, ID: r.ID, TTL: ttl };
  }

  // ---- Cluster -----------------------------------------------------------------------------------------

  async memberList(r: pb.MemberListRequest): Promise<pb.MemberListResponse> {
    return this.filled(await this.server.memberList(r.linearizable));
  }

  async memberAdd(r: pb.MemberAddRequest): Promise<pb.MemberAddResponse> {
    if (!this.server.memberAdd) throw unimplemented("MemberAdd");
    return this.filled(await this.server.memberAdd(r));
  }

  async memberRemove(r: pb.MemberRemoveRequest): Promise<pb.MemberRemoveResponse> {
    if (!this.server.memberRemove) throw unimplemented("MemberRemove");
    return this.filled(await this.server.memberRemove(r));
  }

  async memberUpdate(r: pb.MemberUpdateRequest): Promise<pb.MemberUpdateResponse> {
    if (!this.server.memberUpdate) throw unimplemented("MemberUpdate");
    return this.filled(await this.server.memberUpdate(r));
  }

  async memberPromote(r: pb.MemberPromoteRequest): Promise<pb.MemberPromoteResponse> {
    if (!this.server.memberPromote) throw unimplemented("MemberPromote");
    return this.filled(await this.server.memberPromote(r));
  }

  // ---- Maintenance -------------------------------------------------------------------------------------

  async alarm(r: pb.AlarmRequest): Promise<pb.AlarmResponse> {
    return this.filled(await this.server.alarm(r));
  }

  async status(): Promise<pb.StatusResponse> {
    return this.filled(await this.server.status());
  }

  async defragment(): Promise<pb.DefragmentResponse> {
    return this.filled(await this.server.defragment());
  }

  async hash(): Promise<pb.HashResponse> {
    return this.filled(await this.server.hash());
  }

  async hashKV(r: pb.HashKVRequest): Promise<pb.HashKVResponse> {
    return this.filled(await this.server.hashKV(r));
  }

  /**
   * The backend as etcd sends it: 32 KiB messages with remaining_bytes, then one message holding the
   * SHA-256 of everything sent (etcdctl snapshot restore checks it).
   */
  async *snapshot(): AsyncGenerator<pb.SnapshotResponse> {
    const snap = this.server.snapshot();
    const total = typeof snap.size === "number" ? snap.size : undefined;
    const sha = createHash("sha256");
    let sent = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const header = this.header();
    // One message held back, so the last data message can say 0 remaining when the size is unknown.
    let held: Buffer | undefined;
    const emit = (blob: Buffer, last: boolean): pb.SnapshotResponse => {
      sent += blob.length;
      sha.update(blob);
      const remaining = total !== undefined ? Math.max(0, total - sent) : last ? 0 : SNAPSHOT_CHUNK;
      return { header, remainingBytes: BigInt(remaining), blob, version: "" };
    };
    // Full 32 KiB messages out of `pending`; the newest one is held back.
    function* cut(): Generator<pb.SnapshotResponse> {
      while (pendingBytes >= SNAPSHOT_CHUNK) {
        const all = Buffer.concat(pending);
        const rest = all.subarray(SNAPSHOT_CHUNK);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
        if (held !== undefined) yield emit(held, false);
        held = Buffer.from(all.subarray(0, SNAPSHOT_CHUNK));
      }
    }
    let streamed = 0;
    for await (const chunk of snap) {
      pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      pendingBytes += chunk.byteLength;
      streamed += chunk.byteLength;
      yield* cut();
    }
    // Zero padding to a multiple of 512 bytes: etcdctl's `snapshot save` recognises the trailing SHA-256
    // by `size % 512 == 32` (bbolt files are page-sized); readers of the backend stream stop at its end.
    const pad = (SNAPSHOT_ALIGN - (streamed % SNAPSHOT_ALIGN)) % SNAPSHOT_ALIGN;
    if (pad > 0) {
      pending.push(Buffer.alloc(pad));
      pendingBytes += pad;
      yield* cut();
    }
    if (pendingBytes > 0) {
      if (held !== undefined) yield emit(held, false);
      held = Buffer.concat(pending);
    }
    if (held !== undefined) yield emit(held, true);
    yield { header, remainingBytes: 0n, blob: sha.digest(), version: "" };
  }

  async moveLeader(r: pb.MoveLeaderRequest): Promise<pb.MoveLeaderResponse> {
    return this.filled(await this.server.moveLeader(r));
  }

  async downgrade(r: pb.DowngradeRequest): Promise<pb.DowngradeResponse> {
    if (!this.server.downgrade) throw unimplemented("Downgrade");
    return this.filled(await this.server.downgrade(r));
  }
}
