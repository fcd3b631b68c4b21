// The maintenance API. Most calls concern one member: give `endpoint` to address a particular one (then
// there is no failover), or let the client pick. moveLeader finds the leader itself, since only the
// leader may hand leadership over.

import { Readable } from "node:stream";
import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import {
  AlarmRequest_AlarmAction,
  AlarmType,
  type AlarmMember as PbAlarmMember,
  type SnapshotResponse,
} from "../api/gen/etcdserverpb/rpc.js";
import { type Int64, toBigInt, toBuffer } from "./bytes.js";
import type { CallOptions, Connection, UnaryOptions } from "./connection.js";
import type { Endpoint } from "./endpoints.js";
import { EtcdError, EtcdNoLeaderError, Status, toClientError } from "./errors.js";
import { type ResponseHeader, toHeader } from "./types.js";

export interface MemberCallOptions extends CallOptions {
  /** Ask this member: one of the client's endpoints ("http://host:port" or "host:port"). */
  endpoint?: string;
}

export interface StatusResponse {
  header: ResponseHeader;
  /** The member's server version, e.g. "3.5.17". */
  version: string;
  dbSize: bigint;
  dbSizeInUse: bigint;
  /** The leader's member ID as this member knows it (0n: none). */
  leader: bigint;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  errors: string[];
  isLearner: boolean;
}

export type AlarmKind = "none" | "nospace" | "corrupt";

export interface AlarmMember {
  memberId: bigint;
  alarm: AlarmKind;
}

export interface HashKVResponse {
  header: ResponseHeader;
  hash: number;
  compactRevision: bigint;
  hashRevision: bigint;
}

const ALARM_KIND: Record<number, AlarmKind> = {
  [AlarmType.NONE]: "none",
  [AlarmType.NOSPACE]: "nospace",
  [AlarmType.CORRUPT]: "corrupt",
};
const ALARM_TYPE: Record<AlarmKind, AlarmType> = {
  none: AlarmType.NONE,
  nospace: AlarmType.NOSPACE,
  corrupt: AlarmType.CORRUPT,
};

const toAlarm = (a: PbAlarmMember): AlarmMember => ({
  memberId: a.memberID,
  alarm: ALARM_KIND[a.alarm] ?? "none",
});

export class Maintenance {
  constructor(private readonly conn: Connection) {}

  /** The member's status (version, database size, leader, raft indexes). */
  async status(opts: MemberCallOptions = {}): Promise<StatusResponse> {
    const r = await this.conn.unary<pb.StatusResponse>(
      "read",
      (ep, md, o, cb) => ep.maintenance.status({}, md, o, cb),
      this.target(opts),
    );
    return {
      header: toHeader(r.header),
      version: r.version,
      dbSize: r.dbSize,
      dbSizeInUse: r.dbSizeInUse,
      leader: r.leader,
      raftIndex: r.raftIndex,
      raftTerm: r.raftTerm,
      raftAppliedIndex: r.raftAppliedIndex,
      errors: [...r.errors],
      isLearner: r.isLearner,
    };
  }

  /** Active alarms of every member. */
  async alarmList(opts: CallOptions = {}): Promise<AlarmMember[]> {
    const req = { action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE };
    const r = await this.conn.unary<pb.AlarmResponse>(
      "read",
      (ep, md, o, cb) => ep.maintenance.alarm(req, md, o, cb),
      opts,
    );
    return r.alarms.map(toAlarm);
  }

  /**
   * Disarms alarms: every active alarm when called without arguments (as `etcdctl alarm disarm`), else
   * the given member's alarm of the given kind. Returns the alarms disarmed.
   */
  async alarmDisarm(
    which?: { memberId: Int64; alarm: AlarmKind },
    opts: CallOptions = {},
  ): Promise<AlarmMember[]> {
    const targets =
      which === undefined
        ? await this.alarmList(opts)
        : [{ memberId: toBigInt(which.memberId), alarm: which.alarm }];
    const out: AlarmMember[] = [];
    for (const a of targets) {
      const req = {
        action: AlarmRequest_AlarmAction.DEACTIVATE,
        memberID: a.memberId,
        alarm: ALARM_TYPE[a.alarm],
      };
      const r = await this.conn.unary<pb.AlarmResponse>(
        "write",
        (ep, md, o, cb) => ep.maintenance.alarm(req, md, o, cb),
        {
          ...opts,
          requireLeader: true,
        },
      );
      out.push(...r.alarms.map(toAlarm));
    }
    return out;
  }

  /** Defragments one member's backend (blocks that member while it runs). */
  async defragment(opts: MemberCallOptions = {}): Promise<{ header: ResponseHeader }> {
    const r = await this.conn.unary<pb.DefragmentResponse>(
      "read",
      (ep, md, o, cb) => ep.maintenance.defragment({}, md, o, cb),
      this.target(opts),
    );
    return { header: toHeader(r.header) };
  }

  /** Hash of the member's whole backend (for corruption checks; etcd's Hash). */
  async hash(opts: MemberCallOptions = {}): Promise<{ header: ResponseHeader; hash: number }> {
    const r = await this.conn.unary<pb.HashResponse>(
      "read",
      (ep, md, o, cb) => ep.maintenance.hash({}, md, o, cb),
      this.target(opts),
    );
    return { header: toHeader(r.header), hash: r.hash };
  }

  /** Hash of the key-value history up to `revision` (0: latest); equal on members in sync. */
  async hashKV(revision: Int64 = 0n, opts: MemberCallOptions = {}): Promise<HashKVResponse> {
    const req = { revision: toBigInt(revision) };
    const r = await this.conn.unary<pb.HashKVResponse>(
      "read",
      (ep, md, o, cb) => ep.maintenance.hashKv(req, md, o, cb),
      this.target(opts),
    );
    return {
      header: toHeader(r.header),
      hash: r.hash,
      compactRevision: r.compactRevision,
      hashRevision: r.hashRevision,
    };
  }

  /**
   * Transfers leadership to member `targetId`. The request goes to the current leader, found by asking
   * the endpoints' status.
   */
  async moveLeader(targetId: Int64, opts: CallOptions = {}): Promise<{ header: ResponseHeader }> {
    const leader = await this.findLeader(opts);
    const req = { targetID: toBigInt(targetId) };
    const r = await this.conn.unary<pb.MoveLeaderResponse>(
      "write",
      (ep, md, o, cb) => ep.maintenance.moveLeader(req, md, o, cb),
      {
        ...opts,
        endpoint: leader,
      },
    );
    return { header: toHeader(r.header) };
  }

  /**
   * A snapshot of the member's backend as a byte stream (etcd's db file followed by its SHA-256, as
   * `etcdctl snapshot save` writes it). The stream errors if the transfer fails midway; it is not
   * restarted, since a snapshot must come whole from one member.
   */
  snapshot(opts: MemberCallOptions = {}): Readable {
    const conn = this.conn;
    const target = this.target(opts);
    async function* chunks(): AsyncGenerator<Buffer> {
      conn.assertOpen();
      await conn.ensureToken(opts);
      const ep = target.endpoint ?? conn.pool.pick();
      const call = ep.maintenance.snapshot({}, conn.metadata(false), {});
      const onAbort = () => call.cancel();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        for await (const m of call as AsyncIterable<SnapshotResponse>) {
          if (m.blob.length > 0) yield toBuffer(m.blob);
        }
      } catch (e) {
        throw toClientError(e, { endpoint: ep.url });
      } finally {
        opts.signal?.removeEventListener("abort", onAbort);
        call.cancel();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** The endpoint of the leader, according to the first member that knows it. */
  private async findLeader(opts: CallOptions): Promise<Endpoint> {
    let lastErr: unknown;
    for (const ep of this.conn.pool.all()) {
      try {
        const st = await this.status({ ...opts, endpoint: ep.url });
        if (st.leader === 0n) continue;
        if (st.leader === st.header.memberId) return ep;
        // Not the leader itself: find the leader's client URL in the member list.
        const r = await this.conn.unary<pb.MemberListResponse>(
          "read",
          (e, md, o, cb) => e.cluster.memberList({ linearizable: false }, md, o, cb),
          { ...opts, endpoint: ep },
        );
        const m = r.members.find((x) => x.ID === st.leader);
        for (const u of m?.clientURLs ?? []) {
          const known = this.conn.pool.find(u);
          if (known !== undefined) return known;
        }
      } catch (e) {
        lastErr = e;
      }
    }
    if (lastErr instanceof EtcdError) throw lastErr;
    throw new EtcdNoLeaderError("etcdserver: no leader", Status.UNAVAILABLE);
  }

  private target(opts: MemberCallOptions): UnaryOptions {
    const { endpoint, ...rest } = opts;
    if (endpoint === undefined) return rest;
    const ep = this.conn.pool.find(endpoint);
    if (ep === undefined) throw new TypeError(`${endpoint} is not one of the client's endpoints`);
    return { ...rest, endpoint: ep };
  }
}
