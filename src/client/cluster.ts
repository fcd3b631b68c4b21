// The cluster API: list, add, remove, update and promote members. Member changes are writes (repeated
// only when provably not executed); the list is a read.

import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import { type Int64, toBigInt } from "./bytes.js";
import type { CallOptions, Connection } from "./connection.js";
import { type ResponseHeader, toHeader } from "./types.js";

export interface Member {
  id: bigint;
  /** Empty until the member has started (a member just added). */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface MemberListResponse {
  header: ResponseHeader;
  members: Member[];
}

export interface MemberAddResponse extends MemberListResponse {
  /** The member just added. */
  member: Member;
}

function toMember(m: pb.Member | undefined): Member {
  return {
    id: m?.ID ?? 0n,
    name: m?.name ?? "",
    peerURLs: [...(m?.peerURLs ?? [])],
    clientURLs: [...(m?.clientURLs ?? [])],
    isLearner: m?.isLearner ?? false,
  };
}

function toList(r: { header: pb.ResponseHeader | undefined; members: pb.Member[] }): MemberListResponse {
  return { header: toHeader(r.header), members: r.members.map(toMember) };
}

export class Cluster {
  constructor(private readonly conn: Connection) {}

  /** The cluster's members. `linearizable` reads the list through the leader (etcd 3.5+). */
  async memberList(opts: CallOptions & { linearizable?: boolean } = {}): Promise<MemberListResponse> {
    const req = { linearizable: opts.linearizable ?? false };
    const r = await this.conn.unary<pb.MemberListResponse>(
      "read",
      (ep, md, o, cb) => ep.cluster.memberList(req, md, o, cb),
      opts,
    );
    return toList(r);
  }

  /** Adds a member with these peer URLs (as a non-voting learner with `isLearner`). */
  async memberAdd(
    peerURLs: string[],
    opts: CallOptions & { isLearner?: boolean } = {},
  ): Promise<MemberAddResponse> {
    const req = { peerURLs, isLearner: opts.isLearner ?? false };
    const r = await this.conn.unary<pb.MemberAddResponse>(
      "write",
      (ep, md, o, cb) => ep.cluster.memberAdd(req, md, o, cb),
      {
        ...opts,
        requireLeader: true,
      },
    );
    return { ...toList(r), member: toMember(r.member) };
  }

  /** Removes a member. */
  async memberRemove(id: Int64, opts: CallOptions = {}): Promise<MemberListResponse> {
    const req = { ID: toBigInt(id) };
    const r = await this.conn.unary<pb.MemberRemoveResponse>(
      "write",
      (ep, md, o, cb) => ep.cluster.memberRemove(req, md, o, cb),
      {
        ...opts,
        requireLeader: true,
      },
    );
    return toList(r);
  }

  /** Replaces a member's peer URLs. */
  async memberUpdate(id: Int64, peerURLs: string[], opts: CallOptions = {}): Promise<MemberListResponse> {
    const req = { ID: toBigInt(id), peerURLs };
    const r = await this.conn.unary<pb.MemberUpdateResponse>(
      "write",
      (ep, md, o, cb) => ep.cluster.memberUpdate(req, md, o, cb),
      {
        ...opts,
        requireLeader: true,
      },
    );
    return toList(r);
  }

  /** Promotes a learner that has caught up to a voting member. */
  async memberPromote(id: Int64, opts: CallOptions = {}): Promise<MemberListResponse> {
    const req = { ID: toBigInt(id) };
    const r = await this.conn.unary<pb.MemberPromoteResponse>(
      "write",
      (ep, md, o, cb) => ep.cluster.memberPromote(req, md, o, cb),
      {
        ...opts,
        requireLeader: true,
      },
    );
    return toList(r);
  }
}
