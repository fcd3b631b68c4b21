// etcd's v3rpc logic without a transport: request checks before the server is called, the server call,
// and the response header filled as etcd's header.fill does. The gRPC services (src/api/grpc) and the
// JSON gateway (src/api/gateway.ts) both answer through this, so they behave alike.

import { createHash } from "node:crypto";
import { type CallCredentials, currentCredentials } from "../auth/call_context.js";
import type { AuthInfo } from "../auth/types.js";
import { SNAPSHOT_FILE_ALIGN } from "../backend/index.js";
import {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_TXN_OPS,
} from "../server/convert.js";
import {
  ErrGRPCAuthOldRevision,
  ErrGRPCInvalidAuthToken,
  ErrGRPCLeaseNotFound,
  ErrGRPCPermissionDenied,
  ErrGRPCUserEmpty,
  EtcdError,
  Status,
  toEtcdError,
} from "../server/errors.js";
import type * as pb from "./gen/etcdserverpb/rpc.js";
import { AlarmRequest_AlarmAction } from "./gen/etcdserverpb/rpc.js";
import type { ApiLimits, ApiServer } from "./types.js";

/** Bytes of backend per Snapshot message (etcd's snapshotSendBufferSize). */
export const SNAPSHOT_CHUNK = 32 * 1024;

/** An RPC the member does not offer (yet): UNIMPLEMENTED with grpc-go's text for unimplemented methods. */
export function unimplemented(method: string): EtcdError {
  return new EtcdError(Status.UNIMPLEMENTED, `method ${method} not implemented`);
}

export class V3Rpc {
  readonly maxTxnOps: number;
  readonly maxRequestBytes: number;
  readonly grpcKeepaliveIntervalMs: number;
  readonly grpcKeepaliveTimeoutMs: number;
  readonly extensiveMetrics: boolean;

  constructor(
    readonly server: ApiServer,
    limits: ApiLimits = {},
  ) {
    this.maxTxnOps = limits.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    this.maxRequestBytes = limits.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.grpcKeepaliveIntervalMs = limits.grpcKeepaliveIntervalMs ?? 2 * 60 * 60 * 1000;
    this.grpcKeepaliveTimeoutMs = limits.grpcKeepaliveTimeoutMs ?? 20 * 1000;
    this.extensiveMetrics = limits.extensiveMetrics ?? false;
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

  filled<T extends { header: pb.ResponseHeader | undefined }>(resp: T): T {
    resp.header = this.header(resp.header);
    return resp;
  }

  // ---- auth: who is asking, and may they (etcd's checks in its v3 server and v3rpc) --------------------

  /**
   * The user of the call being served (undefined: auth disabled or no credentials). Read the credentials
   * before the first await of a method: they belong to the call's async context.
   */
  caller(): Promise<AuthInfo | undefined> {
    const auth = this.server.auth;
    if (auth === undefined || !auth.isEnabled()) return Promise.resolve(undefined);
    return auth.resolve(currentCredentials());
  }

  /**
   * Why a watch create is refused (its cancel_reason), or undefined if the caller may read the range
   * (etcd's isWatchPermitted; an empty key means "\0", the smallest key).
   */
  async watchRefusal(c: pb.WatchCreateRequest, creds: CallCredentials): Promise<string | undefined> {
    const auth = this.server.auth;
    if (auth === undefined || !auth.isEnabled()) return undefined;
    try {
      const ai = await auth.resolve(creds);
      auth.checkRange(ai, c.key.length === 0 ? new Uint8Array([0]) : c.key, c.rangeEnd);
      return undefined;
    } catch (err) {
      const e = toEtcdError(err);
      const known = [ErrGRPCInvalidAuthToken, ErrGRPCAuthOldRevision, ErrGRPCUserEmpty];
      return known.some((k) => k.matches(e)) ? e.message : ErrGRPCPermissionDenied.message;
    }
  }

  /** Some user is needed (any). Resolves with it. */
  private async anyUser(): Promise<AuthInfo | undefined> {
    const ai = await this.caller();
    this.server.auth?.requireUser(ai);
    return ai;
  }

  /** Root is needed. Resolves with it. */
  private async rootUser(): Promise<AuthInfo | undefined> {
    const ai = await this.caller();
    this.server.auth?.checkAdmin(ai);
    return ai;
  }

  // ---- KV ----------------------------------------------------------------------------------------------

  /** Read access to the range, checked on the state the read sees; the auth state must not change meanwhile. */
  async range(r: pb.RangeRequest): Promise<pb.RangeResponse> {
    checkRangeRequest(r);
    const auth = this.server.auth;
    const ai = await this.caller();
    const chk = auth === undefined ? undefined : () => auth.checkRange(ai, r.key, r.rangeEnd);
    const resp = await this.server.range(r, chk);
    auth?.checkUnchanged(ai);
    return this.filled(resp);
  }

  // Writes and txns carry the caller to the members, which check its access as they apply them.

  async put(r: pb.PutRequest): Promise<pb.PutResponse> {
    checkPutRequest(r);
    return this.filled(await this.server.put(r, await this.caller()));
  }

  async deleteRange(r: pb.DeleteRangeRequest): Promise<pb.DeleteRangeResponse> {
    checkDeleteRangeRequest(r);
    return this.filled(await this.server.deleteRange(r, await this.caller()));
  }

  async txn(r: pb.TxnRequest): Promise<pb.TxnResponse> {
    checkTxnRequest(r, this.maxTxnOps);
    return this.filled(await this.server.txn(r, await this.caller()));
  }

  /** Compaction needs a user (etcd checks nothing here; etcd-ts does not let anonymous clients compact). */
  async compact(r: pb.CompactionRequest): Promise<pb.CompactionResponse> {
    return this.filled(await this.server.compact(r, await this.anyUser()));
  }

  // ---- Lease -------------------------------------------------------------------------------------------

  async leaseGrant(r: pb.LeaseGrantRequest): Promise<pb.LeaseGrantResponse> {
    return this.filled(await this.server.leaseGrant(r, await this.anyUser()));
  }

  /** Revoking deletes the lease's keys: checked against them when applied. */
  async leaseRevoke(r: pb.LeaseRevokeRequest): Promise<pb.LeaseRevokeResponse> {
    return this.filled(await this.server.leaseRevoke(r, await this.anyUser()));
  }

  /** A missing lease answers TTL -1 (not an error), as etcd. */
  async leaseTimeToLive(r: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> {
    const auth = this.server.auth;
    const ai = await this.caller();
    // Listing the keys needs read access to each of them.
    auth?.checkLeaseTimeToLive(ai, r.ID, r.keys);
    try {
      const resp = await this.server.leaseTimeToLive(r);
      if (r.keys) auth?.checkUnchanged(ai);
      return this.filled(resp);
    } catch (err) {
      if (!ErrGRPCLeaseNotFound.matches(toEtcdError(err))) throw err;
      return { header: this.header(), ID: r.ID, TTL: -1n, grantedTTL: 0n, keys: [] };
    }
  }

  async leaseLeases(): Promise<pb.LeaseLeasesResponse> {
    const ai = await this.caller();
    this.server.auth?.checkLeaseLeases(ai);
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
    // Renewing needs write access to the lease's keys (or root), as revoking does.
    this.server.auth?.checkLeaseRenew(await this.caller(), r.ID);
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

  // Membership changes are root's (etcd's checkMembershipOperationPermission); listing is anyone's.

  async memberAdd(r: pb.MemberAddRequest): Promise<pb.MemberAddResponse> {
    await this.rootUser();
    if (!this.server.memberAdd) throw unimplemented("MemberAdd");
    return this.filled(await this.server.memberAdd(r));
  }

  async memberRemove(r: pb.MemberRemoveRequest): Promise<pb.MemberRemoveResponse> {
    await this.rootUser();
    if (!this.server.memberRemove) throw unimplemented("MemberRemove");
    return this.filled(await this.server.memberRemove(r));
  }

  async memberUpdate(r: pb.MemberUpdateRequest): Promise<pb.MemberUpdateResponse> {
    await this.rootUser();
    if (!this.server.memberUpdate) throw unimplemented("MemberUpdate");
    return this.filled(await this.server.memberUpdate(r));
  }

  async memberPromote(r: pb.MemberPromoteRequest): Promise<pb.MemberPromoteResponse> {
    await this.rootUser();
    if (!this.server.memberPromote) throw unimplemented("MemberPromote");
    return this.filled(await this.server.memberPromote(r));
  }

  // ---- Maintenance -------------------------------------------------------------------------------------

  // Maintenance is root's, except reading alarms and status (any user), as etcd's authMaintenanceServer.

  async alarm(r: pb.AlarmRequest): Promise<pb.AlarmResponse> {
    const ai = r.action === AlarmRequest_AlarmAction.GET ? await this.anyUser() : await this.rootUser();
    return this.filled(await this.server.alarm(r, ai));
  }

  async status(): Promise<pb.StatusResponse> {
    await this.anyUser();
    return this.filled(await this.server.status());
  }

  async defragment(): Promise<pb.DefragmentResponse> {
    await this.rootUser();
    return this.filled(await this.server.defragment());
  }

  async hash(): Promise<pb.HashResponse> {
    await this.rootUser();
    return this.filled(await this.server.hash());
  }

  async hashKV(r: pb.HashKVRequest): Promise<pb.HashKVResponse> {
    await this.rootUser();
    return this.filled(await this.server.hashKV(r));
  }

  /**
   * The backend as etcd sends it: 32 KiB messages with remaining_bytes, then one message holding the
   * SHA-256 of everything sent (etcdctl snapshot restore checks it).
   */
  async *snapshot(): AsyncGenerator<pb.SnapshotResponse> {
    await this.rootUser();
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
    // Zero padding, then the digest: the snapshot file's layout (src/backend/snapshot_file.ts).
    const pad = (SNAPSHOT_FILE_ALIGN - (streamed % SNAPSHOT_FILE_ALIGN)) % SNAPSHOT_FILE_ALIGN;
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
    await this.rootUser();
    return this.filled(await this.server.moveLeader(r));
  }

  async downgrade(r: pb.DowngradeRequest): Promise<pb.DowngradeResponse> {
    await this.rootUser();
    if (!this.server.downgrade) throw unimplemented("Downgrade");
    return this.filled(await this.server.downgrade(r));
  }
}
