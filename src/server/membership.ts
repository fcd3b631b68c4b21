// The cluster's membership as the server sees it: members with their peer and client URLs, and the IDs
// of removed members (which may never come back). Changed only by applying committed entries, and
// persisted in the backend's members / members_removed buckets in the same batch as the entry.

import { type Backend, Bucket } from "../backend/index.js";
import { computeClusterId, hexId, urlString } from "./ids.js";

export interface Member {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
  /** A learner the leader promotes by itself once it has caught up (--add-voters-as-learners). */
  autoPromote?: boolean;
}

/** The member description carried in a conf change's context (etcd's JSON shape). */
export interface MemberContext {
  id: string;
  peerURLs: string[];
  name?: string;
  clientURLs?: string[];
  isLearner?: boolean;
  autoPromote?: boolean;
  /** The request ID of a runtime change, for the proposer's waiter (absent in bootstrap entries). */
  reqId?: string;
  /** A promotion of learner `id` rather than an addition (etcd's ConfigChangeContext.IsPromote). */
  isPromote?: boolean;
}

export function encodeMemberContext(
  m: Member,
  extra: { reqId?: bigint; isPromote?: boolean } = {},
): Uint8Array {
  const ctx: MemberContext = {
    id: hexId(m.id),
    peerURLs: m.peerUrls,
    name: m.name,
    clientURLs: m.clientUrls,
    isLearner: m.isLearner,
  };
  if (m.autoPromote) ctx.autoPromote = true;
  if (extra.reqId !== undefined) ctx.reqId = hexId(extra.reqId);
  if (extra.isPromote) ctx.isPromote = true;
  return Buffer.from(JSON.stringify(ctx), "utf8");
}

export function decodeMemberContext(b: Uint8Array): Member {
  return decodeChangeContext(b).member;
}

/** A conf change's context: the member, and for runtime changes the request ID and promote flag. */
export function decodeChangeContext(b: Uint8Array): {
  member: Member;
  reqId: bigint | undefined;
  isPromote: boolean;
} {
  const ctx = JSON.parse(Buffer.from(b).toString("utf8")) as MemberContext;
  const member: Member = {
    id: BigInt(`0x${ctx.id}`),
    name: ctx.name ?? "",
    peerUrls: (ctx.peerURLs ?? []).map(urlString),
    clientUrls: (ctx.clientURLs ?? []).map(urlString),
    isLearner: ctx.isLearner ?? false,
  };
  if (ctx.autoPromote) member.autoPromote = true;
  return {
    member,
    reqId: ctx.reqId !== undefined ? BigInt(`0x${ctx.reqId}`) : undefined,
    isPromote: ctx.isPromote ?? false,
  };
}

function keyOf(id: bigint): Buffer {
  return Buffer.from(id.toString(16).padStart(16, "0"), "utf8");
}

export class RaftCluster {
  readonly members = new Map<bigint, Member>();
  readonly removed = new Set<bigint>();
  clusterId = 0n;

  constructor(private readonly backend: Backend) {}

  /** Loads members from the backend (on restart). */
  recover(): void {
    this.members.clear();
    this.removed.clear();
    const tx = this.backend.readTx();
    tx.forEach(Bucket.members, (_k, v) => {
      const m = decodeMemberContext(v);
      this.members.set(m.id, m);
    });
    tx.forEach(Bucket.membersRemoved, (k) => {
      this.removed.add(BigInt(`0x${Buffer.from(k).toString("utf8")}`));
    });
  }

  sorted(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The cluster ID of a cluster bootstrapped from exactly these members. */
  computeId(): bigint {
    return computeClusterId([...this.members.keys()]);
  }

  add(m: Member): void {
    this.members.set(m.id, m);
    this.persist(m);
  }

  remove(id: bigint): void {
    this.members.delete(id);
    this.removed.add(id);
    this.backend.batchTx.delete(Bucket.members, keyOf(id));
    this.backend.batchTx.put(Bucket.membersRemoved, keyOf(id), Buffer.from("removed"));
  }

  update(id: bigint, f: (m: Member) => void): void {
    const m = this.members.get(id);
    if (m === undefined) return;
    f(m);
    this.persist(m);
  }

  private persist(m: Member): void {
    this.backend.batchTx.put(Bucket.members, keyOf(m.id), encodeMemberContext(m));
  }

  peerUrlsOf(id: bigint): string[] {
    return this.members.get(id)?.peerUrls ?? [];
  }
}
