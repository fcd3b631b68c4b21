// Applying committed requests to the state machine (etcd's applierV3): every member runs exactly the
// same code on exactly the same entries, so the result must depend on nothing but the store's state
// and the request. The proposer's waiter gets the response (or the error) this produces.

import type { InternalRaftRequest } from "../api/gen/etcdserverpb/raft_internal.js";
import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import { AlarmRequest_AlarmAction, AlarmType } from "../api/gen/etcdserverpb/rpc.js";
import { type AuthApplyContext, applyAuthRequest, checkApplyPermission, NOT_AUTH } from "../auth/apply.js";
import type { Lessor } from "../lease/index.js";
import type { KVStore } from "../mvcc/index.js";
import type { AlarmStore } from "./alarms.js";
import {
  compactionRequestFromPb,
  deleteRangeRequestFromPb,
  deleteRangeResponseToPb,
  putRequestFromPb,
  putResponseToPb,
  rangeRequestFromPb,
  rangeResponseToPb,
  txnRequestFromPb,
  txnResponseToPb,
} from "./convert.js";
import { ErrGRPCCorrupt, ErrGRPCNoSpace, toEtcdError } from "./errors.js";
import type { RaftCluster } from "./membership.js";
import { type QuotaRequest, quotaCost } from "./quota.js";
import { v2StoreFor } from "./v2store/index.js";

export interface ApplyContext {
  kv: KVStore;
  lessor: Lessor;
  cluster: RaftCluster;
  alarms: AlarmStore;
  /** This member's backend quota, checked as requests apply (etcd's quotaApplierV3). */
  quota?: { available(req: QuotaRequest): boolean };
  /** Completes a header with this member's IDs and term. */
  header(rev: number): pb.ResponseHeader;
  /** The auth store: requests are checked against their entry's user, auth requests applied to it. */
  auth?: AuthApplyContext;
}

export function applyRequest(ctx: ApplyContext, req: InternalRaftRequest): unknown {
  try {
    return applyOne(ctx, req);
  } catch (e) {
    throw toEtcdError(e);
  }
}

/**
 * Active alarms restrict what applies, on every member alike (the alarm set is replicated state):
 * CORRUPT refuses every key-space and lease request (etcd's applierV3Corrupt); NOSPACE refuses what would
 * grow the database: puts, txns containing puts, lease grants (etcd's applierV3Capped). Deletes,
 * compaction, lease revokes and alarm changes still apply, so an operator can free space.
 */
function checkAlarms(ctx: ApplyContext, req: InternalRaftRequest): void {
  const a = ctx.alarms;
  if (
    a.has(AlarmType.CORRUPT) &&
    (req.put ??
      req.deleteRange ??
      req.txn ??
      req.range ??
      req.compaction ??
      req.leaseGrant ??
      req.leaseRevoke) !== undefined
  ) {
    throw ErrGRPCCorrupt();
  }
  if (
    a.has(AlarmType.NOSPACE) &&
    (req.put !== undefined ||
      req.leaseGrant !== undefined ||
      (req.txn !== undefined && quotaCost({ txn: req.txn }) > 0))
  ) {
    throw ErrGRPCNoSpace();
  }
}

/** etcd's applierV3backend.Alarm. */
function applyAlarm(ctx: ApplyContext, r: pb.AlarmRequest): pb.AlarmResponse {
  const resp: pb.AlarmResponse = { header: ctx.header(ctx.kv.rev()), alarms: [] };
  switch (r.action) {
    case AlarmRequest_AlarmAction.GET:
      resp.alarms = ctx.alarms.get(r.alarm);
      break;
    case AlarmRequest_AlarmAction.ACTIVATE:
      if (r.alarm !== AlarmType.NONE) resp.alarms.push(ctx.alarms.activate(r.memberID, r.alarm));
      break;
    case AlarmRequest_AlarmAction.DEACTIVATE: {
      const m = ctx.alarms.deactivate(r.memberID, r.alarm);
      if (m !== undefined) resp.alarms.push(m);
      break;
    }
  }
  return resp;
}

function applyOne(ctx: ApplyContext, req: InternalRaftRequest): unknown {
  // v2 keys (/v2/keys): their own store and bucket; the result carries v2 errors to the proposer.
  if (req.v2 !== undefined) return v2StoreFor(ctx.kv.backend).apply(req.v2);
  checkAlarms(ctx, req);
  if (req.alarm !== undefined) return applyAlarm(ctx, req.alarm);
  if (ctx.auth !== undefined) {
    checkApplyPermission(ctx.auth, req);
    const r = applyAuthRequest(ctx.auth, req);
    if (r !== NOT_AUTH) return r;
  }
  // Whether the request fits this member's quota is judged before it applies; it applies either way
  // (the key space must stay identical on every member) but the proposer is told "no space" and the
  // member raises the alarm.
  const fits = ctx.quota === undefined || ctx.quota.available(req);
  const resp = applyKv(ctx, req);
  if (!fits) throw ErrGRPCNoSpace();
  return resp;
}

function applyKv(ctx: ApplyContext, req: InternalRaftRequest): unknown {
  const { kv } = ctx;
  if (req.put !== undefined) {
    const r = putResponseToPb(kv.put(putRequestFromPb(req.put)));
    r.header = ctx.header(kv.rev());
    return r;
  }
  if (req.deleteRange !== undefined) {
    const r = deleteRangeResponseToPb(kv.deleteRange(deleteRangeRequestFromPb(req.deleteRange)));
    r.header = ctx.header(kv.rev());
    return r;
  }
  if (req.txn !== undefined) {
    const r = txnResponseToPb(kv.txn(txnRequestFromPb(req.txn)));
    r.header = ctx.header(kv.rev());
    return r;
  }
  if (req.range !== undefined) {
    const r = rangeResponseToPb(kv.rangeRequest(rangeRequestFromPb(req.range)));
    r.header = ctx.header(kv.rev());
    return r;
  }
  if (req.compaction !== undefined) {
    const res = kv.compact(compactionRequestFromPb(req.compaction).revision);
    return { header: ctx.header(kv.rev()), done: res.done } satisfies {
      header: pb.ResponseHeader;
      done: Promise<void>;
    };
  }
  if (req.leaseGrant !== undefined) {
    const l = ctx.lessor.grant(req.leaseGrant.ID, Number(req.leaseGrant.TTL));
    return {
      header: ctx.header(kv.rev()),
      ID: l.id,
      TTL: BigInt(l.ttl),
      error: "",
    } satisfies pb.LeaseGrantResponse;
  }
  if (req.leaseRevoke !== undefined) {
    ctx.lessor.revoke(req.leaseRevoke.ID);
    return { header: ctx.header(kv.rev()) } satisfies pb.LeaseRevokeResponse;
  }
  if (req.leaseCheckpoint !== undefined) {
    ctx.lessor.applyCheckpoints(
      req.leaseCheckpoint.checkpoints.map((c) => ({ id: c.ID, remainingTtl: Number(c.remainingTTL) })),
    );
    return { header: ctx.header(kv.rev()) } satisfies pb.LeaseCheckpointResponse;
  }
  if (req.clusterMemberAttrSet !== undefined) {
    const a = req.clusterMemberAttrSet;
    ctx.cluster.update(a.memberID, (m) => {
      m.name = a.memberAttributes?.name ?? m.name;
      m.clientUrls = a.memberAttributes?.clientUrls ?? m.clientUrls;
    });
    return {};
  }
  return {};
}
