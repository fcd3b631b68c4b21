// Applying committed requests to the state machine (etcd's applierV3): every member runs exactly the
// same code on exactly the same entries, so the result must depend on nothing but the store's state
// and the request. The proposer's waiter gets the response (or the error) this produces.

import type { InternalRaftRequest } from "../api/gen/etcdserverpb/raft_internal.js";
import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import type { Lessor } from "../lease/index.js";
import type { KVStore } from "../mvcc/index.js";
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
import { toEtcdError } from "./errors.js";
import type { RaftCluster } from "./membership.js";

export interface ApplyContext {
  kv: KVStore;
  lessor: Lessor;
  cluster: RaftCluster;
  /** Completes a header with this member's IDs and term. */
  header(rev: number): pb.ResponseHeader;
}

export function applyRequest(ctx: ApplyContext, req: InternalRaftRequest): unknown {
  try {
    return applyOne(ctx, req);
  } catch (e) {
    throw toEtcdError(e);
  }
}

function applyOne(ctx: ApplyContext, req: InternalRaftRequest): unknown {
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
